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
# Named volumes mounted at /data and /bus-conf take these directories' owner and mode, so the
# service user can write its keys and ledger (and only it can read them).
RUN mkdir -p /data /bus-conf && chown node:node /data /bus-conf && chmod 700 /data
USER node
CMD ["sh", "-c", "exec node --import tsx apps/${SWARM_APP}/src/main.ts"]
