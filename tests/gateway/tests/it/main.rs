//! The gateway end to end: real services on sockets, a gateway on a socket, HTTP requests.

mod auth;
mod bad_input;
mod conformance;
mod contract;
mod handlers;
mod openapi;
mod routes;
mod sidecar;
mod sidecar_api;
mod streams;
mod tls;
mod traces;
mod web;
