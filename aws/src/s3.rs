//! The bucket over S3: the same keys as the local directory, objects written whole by PutObject.
//! Promotion is CopyObject then DeleteObject; repeating it after a crash finds the source gone
//! and the target present, and succeeds.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use tally_runtime::ports::{Bucket, check_key};
use tally_runtime::{Error, Result};
use tokio::runtime::Handle;

use crate::describe;

/// Most keys one ListObjectsV2 page returns (the service's own limit).
const LIST_PAGE_KEYS: i32 = 1000;

/// A bucket in S3.
#[derive(Clone, Debug)]
pub struct S3Bucket {
    client: Client,
    bucket: String,
    runtime: Handle,
}

impl S3Bucket {
    /// The bucket `bucket`, reached with `client`, driven on `runtime`.
    pub fn new(client: Client, bucket: impl Into<String>, runtime: Handle) -> S3Bucket {
        S3Bucket {
            client,
            bucket: bucket.into(),
            runtime,
        }
    }

    /// A client for `config`; path-style addressing when an endpoint is configured, because an
    /// emulator on loopback has no per-bucket host names.
    pub fn client(config: &aws_config::SdkConfig) -> Client {
        let builder = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some());
        Client::from_conf(builder.build())
    }

    /// Creates the bucket unless it exists; true if it was created.
    ///
    /// Fails when the service refuses (a name owned by another account, say).
    pub fn create_if_missing(&self) -> Result<bool> {
        // In us-east-1 CreateBucket answers success for a bucket the caller already owns, so
        // ask first.
        let head = self.client.head_bucket().bucket(&self.bucket).send();
        match self.runtime.block_on(head) {
            Ok(_) => return Ok(false),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_not_found()) => {}
            Err(error) => return Err(self.failed("HeadBucket", "", &error)),
        }
        let request = self.client.create_bucket().bucket(&self.bucket).send();
        match self.runtime.block_on(request) {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_bucket_already_owned_by_you()) =>
            {
                Ok(false)
            }
            Err(error) => Err(self.failed("CreateBucket", "", &error)),
        }
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.bucket
    }

    fn failed(
        &self,
        operation: &str,
        key: &str,
        error: &(dyn std::error::Error + 'static),
    ) -> Error {
        Error::Remote {
            operation: format!("S3 {operation} s3://{}/{key}", self.bucket),
            detail: describe(error),
        }
    }

    fn exists(&self, key: &str) -> Result<bool> {
        let request = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send();
        match self.runtime.block_on(request) {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_not_found()) =>
            {
                Ok(false)
            }
            Err(error) => Err(self.failed("HeadObject", key, &error)),
        }
    }
}

impl Bucket for S3Bucket {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        check_key(key)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()))
            .send();
        self.runtime
            .block_on(request)
            .map_err(|error| self.failed("PutObject", key, &error))?;
        Ok(())
    }

    fn promote(&self, from: &str, to: &str) -> Result<()> {
        check_key(from)?;
        check_key(to)?;
        // Our keys hold only URL-safe characters ([A-Za-z0-9_=./-]), so the copy source needs
        // no encoding.
        let source = format!("{}/{from}", self.bucket);
        let copy = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .send();
        if let Err(error) = self.runtime.block_on(copy) {
            // The source is gone: the move already happened if the target is there.
            if !self.exists(from)? && self.exists(to)? {
                return Ok(());
            }
            return Err(self.failed("CopyObject", from, &error));
        }
        self.delete(from)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send();
        let output = match self.runtime.block_on(request) {
            Ok(output) => output,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_no_such_key()) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(self.failed("GetObject", key, &error)),
        };
        let body = self
            .runtime
            .block_on(output.body.collect())
            .map_err(|error| self.failed("GetObject body", key, &error))?;
        Ok(Some(body.into_bytes().to_vec()))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .max_keys(LIST_PAGE_KEYS)
                .set_continuation_token(token.take())
                .send();
            let page = self
                .runtime
                .block_on(request)
                .map_err(|error| self.failed("ListObjectsV2", prefix, &error))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key().map(str::to_owned)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        // S3 lists in UTF-8 binary order already; sorting keeps the contract explicit.
        keys.sort_unstable();
        Ok(keys)
    }

    fn delete(&self, key: &str) -> Result<()> {
        check_key(key)?;
        let request = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send();
        self.runtime
            .block_on(request)
            .map_err(|error| self.failed("DeleteObject", key, &error))?;
        Ok(())
    }
}
