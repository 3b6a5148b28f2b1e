# Ferry's bot and worker (the controller side). Hosts are reached over SSH, so this image needs
# no CRIU or runc: only Node, Ansible, Terraform, an SSH client, and the font the charts are drawn in.
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
ENV NODE_ENV=production FERRY_LOG_LEVEL=info
ENTRYPOINT ["node", "bin/ferry.js"]
