//! The {{ name }} service: handlers for the endpoints of `proto/{{ snake }}.proto`, and a
//! subscriber to `{{ topic }}`.

#[cfg(feature = "server")]
pub mod handler;
#[cfg(feature = "server")]
pub mod subscriber;

/// The code generated from `proto/{{ snake }}.proto` by `build.rs`.
pub mod pb {
    micro::include_proto!("{{ package }}");
}

/// The name the service registers as.
pub const SERVICE: &str = "{{ service_name }}";

/// The topic the subscriber listens to.
pub const TOPIC: &str = "{{ topic }}";
