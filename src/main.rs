/// Threads get 16 MiB stacks (Rust's default is 2 MiB): rendering a page with many generation
/// cards is one deeply nested future, which an unoptimised build lays out on the stack far
/// larger than an optimised one does, and overflowed 2 MiB on the canvas page.
#[cfg(feature = "ssr")]
const THREAD_STACK_BYTES: usize = 16 << 20;

/// mimalloc rather than glibc's malloc: glibc gives each busy thread (the runtime's, each SQLite
/// connection's) an arena of its own and seldom hands their freed memory back, so the server's
/// memory crept up under repeated load (see the README's *Performance*). Built with `no_thp`:
/// where the kernel gives transparent huge pages on request, mimalloc's request for its arenas
/// cost about 14 MiB of idle memory (measured here; `MIMALLOC_ALLOW_THP=0` did the same).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(avatar_studio::server::run_cli()),
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

// The browser build starts from `hydrate()` in lib.rs; this binary is server-only.
#[cfg(not(feature = "ssr"))]
fn main() {}
