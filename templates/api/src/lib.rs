//! The {{ name }} API: handlers for `proto/{{ snake }}.proto`, whose methods carry HTTP
//! bindings for the API gateway.

#[cfg(feature = "server")]
pub mod handler;

/// The code generated from `proto/{{ snake }}.proto` by `build.rs`.
pub mod pb {
    micro::include_proto!("{{ package }}");
}

/// The name the service registers as.
pub const SERVICE: &str = "{{ service_name }}";
