# Ferry's bot and worker (the controller side). Hosts are reached over SSH, so this image needs
# no CRIU or runc: only Node, Ansible, Terraform, an SSH client, and the font the charts are drawn in.
# It runs as the unprivileged `node` user (uid 1000): nothing on the controller side needs root.
FROM hashicorp/terraform:1.11 AS terraform

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ansible-core openssh-client rsync redis-tools ca-certificates fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY --from=terraform /bin/terraform /usr/local/bin/terraform
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY playbooks ./playbooks
COPY terraform ./terraform
# Ferry's writable state (charts, the lab directory's defaults), owned by the user it runs as; a named
# volume mounted here starts with this ownership.
RUN mkdir -p /var/lib/ferry/bench /var/lib/ferry/lab && chown -R node:node /var/lib/ferry
ENV NODE_ENV=production FERRY_LOG_LEVEL=info FERRY_BENCH_DIR=/var/lib/ferry/bench FERRY_LAB_DIR=/var/lib/ferry/lab HOME=/home/node
USER node
ENTRYPOINT ["node", "bin/ferry.js"]
