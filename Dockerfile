# syntax=docker/dockerfile:1
# Container image for clouddb-job-operator: a static-ish Rust binary on distroless (glibc, CA
# certificates, no shell), running as the non-root user 65532.
#
#   docker build -t clouddb-job-operator:0.1.0 .
#   kind load docker-image clouddb-job-operator:0.1.0          # or: minikube image load ...
#
# The entrypoint is `clouddb-job-operator run`; the Helm chart passes run's flags as args.
# For other subcommands override the entrypoint:
#   docker run --rm --entrypoint /usr/local/bin/clouddb-job-operator clouddb-job-operator:0.1.0 crd

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and build directory between builds (BuildKit); the binary
# is copied out of the cached target directory before the layer is committed.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin clouddb-job-operator \
    && install -D -m 0755 target/release/clouddb-job-operator /out/clouddb-job-operator

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="clouddb-job-operator" \
      org.opencontainers.image.description="Tracks long-running cloud database jobs (Tencent Cloud API 3.0 and CDB API 2.0, Huawei Cloud RDS/TaurusDB, Alibaba Cloud RDS/PolarDB, Amazon RDS/Aurora, Google Cloud SQL, Azure Database for PostgreSQL/MySQL) as Kubernetes CloudDbJob resources" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/clouddb-job-operator /usr/local/bin/clouddb-job-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/clouddb-job-operator", "run"]
