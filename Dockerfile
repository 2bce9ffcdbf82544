# serve-batch as a container image:   docker build -t serve-batch:0.1.0 .
#
# Stage one builds and packs the package as `npm pack` does for a release; stage two installs that tarball
# globally, production dependencies only. Its steps are the README's tarball install, which the test suite runs
# on every change (test/package/install.test.ts): the same commands, in the same order.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS pack
WORKDIR /build
# The dependencies in a layer of their own, rebuilt only when the lockfile changes. No install script is needed
# to build (onnxruntime-node's would download CUDA files; the project's own prepare needs the sources).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json README.md LICENSE ./
COPY bin ./bin
COPY src ./src
# prepack empties dist/, prepare builds it, then serve-batch-<version>.tgz is written here.
RUN npm pack --no-audit --no-fund

FROM ${NODE_IMAGE}
# onnxruntime-node's install script downloads CUDA provider files (hundreds of MB) that serve-batch never uses:
# it runs models on the CPU build inside the npm package. npm 10 (this image's) runs a global package's
# dependency scripts; this makes that one stop at once.
ENV ONNXRUNTIME_NODE_INSTALL=skip
# tini as process 1: it passes signals on and reaps. serve-batch ends a run whose model call never returns by
# its own SIGTERM once everything is cleaned up, and a container's process 1 ignores signals it has no handler
# for, so without an init such a process would stay (checked with unshare --pid: hangs alone, 143 under tini).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=pack /build/serve-batch-*.tgz /tmp/
RUN npm install -g --no-audit --no-fund /tmp/serve-batch-*.tgz \
 && rm /tmp/serve-batch-*.tgz \
 && npm cache clean --force \
 && mkdir -p /jobs /models /data \
 && chown node:node /data
# Mount points: /jobs (job files) and /models can be read-only; /data holds inputs, results, rejects and the
# jobs' state_dir, and must be writable by the user below (uid 1000).
WORKDIR /data
USER node
ENTRYPOINT ["/usr/bin/tini", "--", "serve-batch"]
CMD ["--help"]
