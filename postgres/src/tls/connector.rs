//! The TLS connector handed to tokio-postgres: a rustls handshake over the connection's socket,
//! with the URL's host as the server name the certificate is checked against.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::Socket;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream as RustlsTlsStream;

/// Makes one TLS handshake per connection from a shared rustls configuration; cloning is cheap.
#[derive(Clone)]
pub(crate) struct RustlsConnector {
    config: Arc<ClientConfig>,
}

impl RustlsConnector {
    pub(crate) fn new(config: ClientConfig) -> RustlsConnector {
        RustlsConnector {
            config: Arc::new(config),
        }
    }
}

impl MakeTlsConnect<Socket> for RustlsConnector {
    type Stream = RustlsStream;
    type TlsConnect = RustlsHandshake;
    type Error = io::Error;

    /// Fails when `host` is neither a DNS name nor an IP address, e.g. empty because the URL
    /// gives only a `hostaddr`.
    fn make_tls_connect(&mut self, host: &str) -> io::Result<RustlsHandshake> {
        let server_name = ServerName::try_from(host.to_owned()).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("host {host:?} cannot name a TLS server: {error}"),
            )
        })?;
        Ok(RustlsHandshake {
            connector: TlsConnector::from(Arc::clone(&self.config)),
            server_name,
        })
    }
}

/// The handshake of one connection.
pub(crate) struct RustlsHandshake {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl TlsConnect<Socket> for RustlsHandshake {
    type Stream = RustlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream>> + Send>>;

    fn connect(self, socket: Socket) -> Self::Future {
        Box::pin(async move {
            let stream = self.connector.connect(self.server_name, socket).await?;
            Ok(RustlsStream(stream))
        })
    }
}

/// An encrypted connection. Its own type, because tokio-postgres's `TlsStream` trait cannot be
/// implemented on tokio-rustls's stream directly; reads and writes pass straight through.
pub(crate) struct RustlsStream(RustlsTlsStream<Socket>);

impl TlsStream for RustlsStream {
    /// None: SCRAM channel binding would need the hash algorithm of the server certificate's
    /// signature, which rustls does not expose; the certificate checks of every TLS mode here
    /// already stop a man in the middle.
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(context, buffer)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(context, buffer)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(context, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(context)
    }
}
