//! The hello-world API: handlers for `proto/hello_world.proto`, whose methods carry HTTP
//! bindings for the API gateway.

#[cfg(feature = "server")]
pub mod handler;

/// The code generated from `proto/hello_world.proto` by `build.rs`.
pub mod pb {
    micro::include_proto!("hello_world");
}

/// The name the service registers as.
pub const SERVICE: &str = "hello-world";
