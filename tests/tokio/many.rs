#![cfg(feature = "tokio")]
//! 1,000 concurrent TLS connections on one multi-thread runtime with two workers, each over
//! its own `tokio::io::duplex`, each a small echo with an orderly close.

use crate::common::Fixture;
use crate::tokio_common::*;
use sslbridge::{ClientOptions, ServerOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONNECTIONS: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections() {
    bounded(LIMIT * 3, async {
        let fx = Fixture::new();
        // Contexts are shared: building one per connection is the expensive part.
        let client_ctx = fx.client_context(None);
        let server_ctx = fx.server_context(None);
        let drops = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::with_capacity(2 * CONNECTIONS);
        for i in 0..CONNECTIONS {
            let (a, b) = tokio::io::duplex(8 * 1024);
            let a = Counted::with_counter(a, &drops);
            let b = Counted::with_counter(b, &drops);
            let server_ctx = server_ctx.clone();
            tasks.push(tokio::spawn(async move {
                let mut tls = ServerOptions::new()
                    .context(server_ctx)
                    .accept_async(b)
                    .await?;
                let mut request = Vec::new();
                tls.read_to_end(&mut request).await?;
                tls.write_all(&request).await?;
                tls.shutdown().await?;
                Ok::<_, sslbridge::Error>(())
            }));
            let client_ctx = client_ctx.clone();
            tasks.push(tokio::spawn(async move {
                let mut tls = ClientOptions::new()
                    .hostname("localhost")
                    .context(client_ctx)
                    .connect_async(a)
                    .await?;
                let message = format!("connection {i}");
                tls.write_all(message.as_bytes()).await?;
                tls.shutdown().await?;
                let mut echo = Vec::new();
                tls.read_to_end(&mut echo).await?;
                assert_eq!(echo, message.as_bytes());
                Ok(())
            }));
        }
        for task in tasks {
            task.await.unwrap().expect("connection");
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2 * CONNECTIONS);
    })
    .await
}
