//! logrelay: a CloudWatch Logs subscription Lambda.
//!
//! Data flows one way:
//!
//! ```text
//! payload (decode) → events → pattern FilterSet (match, extract) → metrics (aggregate, emit)
//!                                                        ↘ forward (encode, batch, send)
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod cli;
pub mod config;
pub mod enrich;
pub mod forward;
pub mod json;
pub mod lambda;
pub mod metrics;
pub mod pattern;
pub mod payload;
pub mod pipeline;

/// Every payload allocates megabytes (decode buffers, events, records) and frees them at the end. By
/// default glibc hands large freed blocks back to the kernel (mmap'd blocks at once, the heap top past
/// 128 KiB), so the next payload pays again in page faults: a third of the CPU time of an ndjson replay
/// went to the kernel (see bench/NOTES.md, "Tuning log"). Keeping freed memory for reuse bounds the
/// resident size by the largest payload's working set instead. Does nothing but on glibc.
///
/// # Safety
///
/// glibc's `mallopt` is not thread-safe: call this first thing in `main`, before any other thread
/// exists.
pub unsafe fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// Blocks below this come from the heap (reused) rather than from their own mapping.
        const MMAP_THRESHOLD: libc::c_int = 64 * 1024 * 1024;
        /// Free memory at the heap top is returned to the kernel only past this.
        const TRIM_THRESHOLD: libc::c_int = 256 * 1024 * 1024;
        // SAFETY: mallopt only sets allocator parameters; the caller runs this before any other
        // thread exists. A failure (return 0) leaves glibc's defaults, which is fine.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}
