# One image for every SwarmHarness service; docker-compose.yml picks the app with SWARM_APP.
# Sources run through tsx (the repo has no separate build step).
FROM node:20-bookworm-slim
WORKDIR /swarm
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
COPY bin ./bin
COPY tsconfig.base.json tsconfig.json ./
RUN npm ci --omit=dev --no-audit --no-fund
ENV NODE_ENV=production
# The named volume mounted at /data takes this directory's owner, so the service user can write its key and ledger.
RUN mkdir -p /data && chown node:node /data
USER node
CMD ["sh", "-c", "exec node --import tsx apps/${SWARM_APP}/src/main.ts"]
