# One image, one binary: the release server with the front end and migrations inside.
#   docker build -t avatar-studio .
#   docker run -p 3000:3000 -v studio-data:/data avatar-studio
FROM rust:1.95-slim-bookworm AS build
# npm's binaryen (wasm-opt): Debian bookworm's is too old and breaks the WASM's externref table.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends binutils nodejs npm \
 && rm -rf /var/lib/apt/lists/* \
 && npm install --global --no-audit --no-fund binaryen@132.0.0
RUN rustup target add wasm32-unknown-unknown
WORKDIR /src
# The tools first (a layer of their own, kept while the sources change).
COPY Cargo.toml Cargo.lock ./
RUN cargo install cargo-leptos --version 0.3.7 --locked --features no_downloads \
 && cargo install wasm-bindgen-cli --locked --version "$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
COPY . .
RUN cargo leptos build --release --precompress && strip target/server-release/avatar-studio

FROM debian:bookworm-slim
# ca-certificates: HTTPS to A2E and S3. ffmpeg: only the demo mode's simulator draws videos with it.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ca-certificates curl ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /data --create-home --uid 10001 studio
COPY --from=build /src/target/server-release/avatar-studio /usr/local/bin/avatar-studio
USER studio
WORKDIR /data
ENV LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    DATABASE_URL=sqlite:///data/avatar-studio.db \
    MEDIA_DIR=/data/media \
    LOG_FORMAT=json
EXPOSE 3000
VOLUME /data
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/avatar-studio"]
