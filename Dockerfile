# syntax=docker/dockerfile:1
# Weir server image: `docker build -t weir .` then
# `docker run -p 9200:9200 -v weir-data:/data weir`.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# SQLite, libpq and QuickJS are bundled C libraries: no -dev packages needed.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p weir \
 && cp target/release/weir /usr/local/bin/weir

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin weir \
 && mkdir -p /data \
 && chown weir:weir /data
COPY --from=build /usr/local/bin/weir /usr/local/bin/weir
ENV WEIR_HTTP_ADDR=0.0.0.0:9200 \
    WEIR_DATABASE_URL=/data/weir.db
VOLUME /data
WORKDIR /data
EXPOSE 9200 1883
USER weir
# Arguments go to weir: `docker run ... weir tenant add acme`.
ENTRYPOINT ["weir"]
