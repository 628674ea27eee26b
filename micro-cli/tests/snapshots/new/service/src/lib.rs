//! The hello-world service: handlers for the endpoints of `proto/hello_world.proto`, and a
//! subscriber to `hello-world.events`.

#[cfg(feature = "server")]
pub mod handler;
#[cfg(feature = "server")]
pub mod subscriber;

/// The code generated from `proto/hello_world.proto` by `build.rs`.
pub mod pb {
    micro::include_proto!("hello_world");
}

/// The name the service registers as.
pub const SERVICE: &str = "hello-world";

/// The topic the subscriber listens to.
pub const TOPIC: &str = "hello-world.events";
