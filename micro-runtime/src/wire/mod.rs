//! The wire kit every transport shares: gRPC's length-prefixed message framing, the call
//! head (deadline, metadata, status as headers and trailers), and the bodies micro sends and
//! receives. The gRPC transport puts these on HTTP/2; the native transport puts the same
//! frames and header pairs in its own compact framing.

pub(crate) mod body;
pub(crate) mod frame;
pub(crate) mod recv;
pub(crate) mod rich;
pub(crate) mod status;

/// The default limit for one message, in either direction: 4 MiB (as gRPC's default).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
