# One image for every SwarmHarness service; docker-compose.yml picks the app with SWARM_APP.
# Sources run through tsx (the repo has no separate build step).
FROM node:20-bookworm-slim
WORKDIR /swarm
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
COPY bin ./bin
COPY tsconfig.base.json tsconfig.json .swcrc ./
# Services run compiled JavaScript: build with the dev tools (swc), then drop them from the image.
RUN npm ci --no-audit --no-fund \
 && node tools/scripts/build.js \
 && npm prune --omit=dev --no-audit --no-fund
ENV NODE_ENV=production
# A new named volume takes the owner and mode of the directory it is first mounted on, so these
# let the service user write what docker-compose.yml keeps in volumes, and nobody else read it:
# bus-init's node keys (/node), the nats auth config (/bus-conf), one key volume per service role
# (/keys/<role>), credit-svc's ledger (/data/credit-ledger) and api-svc's agents (/data/api). Services mount their key volume
# read-only on /data.
RUN mkdir -p /data/credit-ledger /data/credit-state /data/api /node /bus-conf /keys/credit /keys/registry /keys/gateway /keys/executor /keys/router /keys/api \
 && chown -R node:node /data /node /bus-conf /keys \
 && chmod 700 /data /data/credit-ledger /data/credit-state /data/api /node /keys /keys/credit /keys/registry /keys/gateway /keys/executor /keys/router /keys/api
USER node
CMD ["sh", "-c", "exec node --enable-source-maps apps/${SWARM_APP}/dist/main.js"]
