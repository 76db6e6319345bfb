//! De-aggregation of Kinesis records packed by the Kinesis Producer Library (KPL): every
//! Kinesis record comes out as its user records, in order, and a record the KPL did not pack
//! comes out unchanged, as the Kinesis Client Library does it.
//!
//! An aggregated record's data is the magic `F3 89 9A C2`, a protobuf `AggregatedRecord`
//! message, and the 16-byte MD5 digest of that message:
//!
//! ```text
//! message AggregatedRecord {
//!   repeated string partition_key_table = 1;
//!   repeated string explicit_hash_key_table = 2;
//!   repeated Record records = 3;
//! }
//! message Record {
//!   required uint64 partition_key_index = 1;
//!   optional uint64 explicit_hash_key_index = 2;
//!   required bytes data = 3;
//!   repeated Tag tags = 4;
//! }
//! message Tag { required string key = 1; optional string value = 2; }
//! ```
//!
//! Only the partition key and the data of each user record matter here; explicit hash keys,
//! tags and fields unknown to this format are read past. The reader is hand-rolled because
//! the format is this small, and it borrows every slice from the record's data.

use std::borrow::Cow;
use std::collections::HashMap;

use md5::{Digest, Md5};

/// The four bytes that open the data of every KPL-aggregated record.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

/// The length of the MD5 digest that closes the data of every KPL-aggregated record.
const DIGEST_BYTES: usize = 16;

/// A varint encodes at most 64 bits in 7-bit groups, so it never needs more than ten bytes.
const MAX_VARINT_BYTES: usize = 10;

/// One user record out of a Kinesis record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord<'a> {
    /// The user record's partition key; for a record that is not aggregated, the Kinesis
    /// record's own partition key.
    pub partition_key: Cow<'a, str>,
    /// The user record's position in its aggregate, from 0; always 0 for a record that is not
    /// aggregated. With the Kinesis sequence number it identifies the user record.
    pub sub_sequence: u32,
    /// The user record's data.
    pub data: &'a [u8],
}

/// Why an aggregated record could not be unpacked (magic and checksum matched, but the
/// protobuf is malformed, e.g. a partition key index out of range, truncated field, bad varint).
///
/// Offsets count bytes from the start of the Kinesis record's data, magic included.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KplError {
    /// A varint's continuation bit is still set on the last byte of its message.
    #[error("KPL aggregated record: the varint at byte {offset} runs past the end of its message")]
    UnterminatedVarint {
        /// Where the varint starts.
        offset: usize,
    },
    /// A varint has more than ten bytes, or its tenth byte carries bits beyond 64.
    #[error("KPL aggregated record: the varint at byte {offset} does not fit in 64 bits")]
    VarintTooLong {
        /// Where the varint starts.
        offset: usize,
    },
    /// A field's value needs more bytes than its message has left.
    #[error(
        "KPL aggregated record: the field at byte {offset} needs {needed} bytes but its message \
         has {remaining} left (truncated)"
    )]
    Truncated {
        /// Where the field's tag starts.
        offset: usize,
        /// How many bytes the value needs.
        needed: u64,
        /// How many bytes its message has after the tag and length.
        remaining: usize,
    },
    /// A field tag names field number 0, which protobuf does not allow.
    #[error("KPL aggregated record: the field at byte {offset} has field number 0")]
    ZeroFieldNumber {
        /// Where the field's tag starts.
        offset: usize,
    },
    /// A field has a wire type that is either a deprecated group (3, 4) or undefined (6, 7).
    #[error(
        "KPL aggregated record: the field at byte {offset} has wire type {wire_type}, which \
         the format never uses"
    )]
    UnsupportedWireType {
        /// Where the field's tag starts.
        offset: usize,
        /// The wire type, the tag's low three bits.
        wire_type: u8,
    },
    /// A user record lacks a field the format requires.
    #[error("KPL aggregated record: user record {record} (at byte {offset}) has no {field}")]
    MissingField {
        /// The user record's position in the aggregate, from 0.
        record: usize,
        /// Where the user record's message starts.
        offset: usize,
        /// The missing field's name, e.g. `partition_key_index`.
        field: &'static str,
    },
    /// A user record refers to a partition key the table does not have.
    #[error(
        "KPL aggregated record: user record {record} refers to partition key {index}, but the \
         table has {table_len} keys"
    )]
    PartitionKeyIndexOutOfRange {
        /// The user record's position in the aggregate, from 0.
        record: usize,
        /// The index it gives.
        index: u64,
        /// How many partition keys the table has.
        table_len: usize,
    },
    /// The aggregate holds more user records than a sub-sequence number can count.
    #[error("KPL aggregated record: more than {} user records", u32::MAX)]
    TooManyRecords,
}

/// Splits `data` of a record with partition key `partition_key` into user records; a record
/// that is not KPL-aggregated is one user record with sub_sequence 0.
///
/// A record is aggregated when its data starts with [`MAGIC`], is long enough to hold the
/// magic and a digest, and ends with the MD5 digest of the bytes between them. Anything else,
/// including a record whose digest does not match, is returned unchanged, as the KCL does.
///
/// Fails when the record is aggregated but its protobuf message is malformed. Partition keys
/// that are not UTF-8 are decoded lossily (U+FFFD), as protobuf's Java runtime in the KCL
/// decodes them; refusing the whole aggregate over one key's encoding would lose its data.
pub fn deaggregate<'a>(
    partition_key: &'a str,
    data: &'a [u8],
) -> Result<Vec<UserRecord<'a>>, KplError> {
    let Some(message) = aggregated_message(data) else {
        return Ok(vec![UserRecord {
            partition_key: Cow::Borrowed(partition_key),
            sub_sequence: 0,
            data,
        }]);
    };
    let aggregate = AggregatedRecord::read(Reader::new(message, MAGIC.len()))?;
    aggregate.into_user_records()
}

/// Packs user records (partition key, data) into one aggregated record's data: for tests and
/// for producers.
///
/// Each distinct partition key is stored once in the table. The caller keeps the result within
/// Kinesis's record size limit; an empty slice gives an aggregate of zero user records.
pub fn aggregate(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut key_indexes: HashMap<&str, u64> = HashMap::new();
    let mut key_table = Vec::new();
    let mut record_messages = Vec::with_capacity(records.len());
    for &(partition_key, data) in records {
        let next_index = key_table.len() as u64;
        let index = *key_indexes.entry(partition_key).or_insert_with(|| {
            key_table.push(partition_key);
            next_index
        });
        let mut record_message = Vec::with_capacity(data.len() + 2 * MAX_VARINT_BYTES);
        write_varint_field(&mut record_message, RECORD_PARTITION_KEY_INDEX, index);
        write_bytes_field(&mut record_message, RECORD_DATA, data);
        record_messages.push(record_message);
    }

    let mut message = Vec::new();
    for partition_key in key_table {
        write_bytes_field(&mut message, PARTITION_KEY_TABLE, partition_key.as_bytes());
    }
    for record_message in &record_messages {
        write_bytes_field(&mut message, RECORDS, record_message);
    }

    let mut packed = Vec::with_capacity(MAGIC.len() + message.len() + DIGEST_BYTES);
    packed.extend_from_slice(&MAGIC);
    packed.extend_from_slice(&message);
    packed.extend_from_slice(&Md5::digest(&message));
    packed
}

/// The protobuf message inside `data` when `data` is a KPL-aggregated record.
fn aggregated_message(data: &[u8]) -> Option<&[u8]> {
    let after_magic = data.strip_prefix(&MAGIC)?;
    let message_len = after_magic.len().checked_sub(DIGEST_BYTES)?;
    let (message, digest) = after_magic.split_at(message_len);
    (Md5::digest(message).as_slice() == digest).then_some(message)
}

// Field numbers of the format; the ones not listed (explicit hash keys, tags) are read past.
const PARTITION_KEY_TABLE: u64 = 1;
const RECORDS: u64 = 3;
const RECORD_PARTITION_KEY_INDEX: u64 = 1;
const RECORD_DATA: u64 = 3;

/// The parts of an `AggregatedRecord` message that make up its user records.
struct AggregatedRecord<'a> {
    partition_key_table: Vec<Cow<'a, str>>,
    records: Vec<Record<'a>>,
}

/// The parts of one `Record` message that make up a user record.
struct Record<'a> {
    partition_key_index: u64,
    data: &'a [u8],
}

impl<'a> AggregatedRecord<'a> {
    /// Reads the whole message. Records may come before the partition key table on the wire,
    /// so their indexes are resolved only afterwards, by `into_user_records`.
    fn read(mut reader: Reader<'a>) -> Result<Self, KplError> {
        let mut aggregate = AggregatedRecord {
            partition_key_table: Vec::new(),
            records: Vec::new(),
        };
        while let Some(field) = reader.next_field()? {
            match (field.number, field.value) {
                (PARTITION_KEY_TABLE, Value::LengthDelimited(key)) => {
                    aggregate
                        .partition_key_table
                        .push(String::from_utf8_lossy(key));
                }
                (RECORDS, Value::LengthDelimited(record)) => {
                    let position = aggregate.records.len();
                    let record_reader = Reader::new(record, field.value_offset);
                    aggregate
                        .records
                        .push(Record::read(record_reader, position)?);
                }
                // Protobuf reads a known number with an unexpected wire type as an unknown field.
                _ => {}
            }
        }
        Ok(aggregate)
    }

    fn into_user_records(self) -> Result<Vec<UserRecord<'a>>, KplError> {
        let table_len = self.partition_key_table.len();
        let mut user_records = Vec::with_capacity(self.records.len());
        for (position, record) in self.records.into_iter().enumerate() {
            let partition_key = usize::try_from(record.partition_key_index)
                .ok()
                .and_then(|index| self.partition_key_table.get(index))
                .ok_or(KplError::PartitionKeyIndexOutOfRange {
                    record: position,
                    index: record.partition_key_index,
                    table_len,
                })?;
            user_records.push(UserRecord {
                partition_key: partition_key.clone(),
                sub_sequence: u32::try_from(position).map_err(|_| KplError::TooManyRecords)?,
                data: record.data,
            });
        }
        Ok(user_records)
    }
}

impl<'a> Record<'a> {
    /// Reads the `Record` message at `position` in its aggregate.
    fn read(mut reader: Reader<'a>, position: usize) -> Result<Self, KplError> {
        let offset = reader.offset();
        let mut partition_key_index = None;
        let mut data = None;
        while let Some(field) = reader.next_field()? {
            match (field.number, field.value) {
                (RECORD_PARTITION_KEY_INDEX, Value::Varint(index)) => {
                    partition_key_index = Some(index);
                }
                (RECORD_DATA, Value::LengthDelimited(bytes)) => data = Some(bytes),
                _ => {}
            }
        }
        let missing = |field| KplError::MissingField {
            record: position,
            offset,
            field,
        };
        Ok(Record {
            partition_key_index: partition_key_index
                .ok_or_else(|| missing("partition_key_index"))?,
            data: data.ok_or_else(|| missing("data"))?,
        })
    }
}

/// One field of a protobuf message.
struct Field<'a> {
    number: u64,
    value: Value<'a>,
    /// Where the value starts in the record's data, for the offsets of nested messages.
    value_offset: usize,
}

/// A field's value by wire type; fixed-width values are only ever read past.
enum Value<'a> {
    Varint(u64),
    Fixed64,
    LengthDelimited(&'a [u8]),
    Fixed32,
}

/// Reads the fields of one protobuf message, front to back.
struct Reader<'a> {
    message: &'a [u8],
    position: usize,
    /// Where `message` starts in the record's data, so errors point into the whole record.
    base_offset: usize,
}

impl<'a> Reader<'a> {
    fn new(message: &'a [u8], base_offset: usize) -> Self {
        Reader {
            message,
            position: 0,
            base_offset,
        }
    }

    fn offset(&self) -> usize {
        self.base_offset + self.position
    }

    /// The next field, or `None` at the end of the message.
    fn next_field(&mut self) -> Result<Option<Field<'a>>, KplError> {
        if self.position == self.message.len() {
            return Ok(None);
        }
        let offset = self.offset();
        let tag = self.varint()?;
        let number = tag >> 3;
        if number == 0 {
            return Err(KplError::ZeroFieldNumber { offset });
        }
        let value = match tag & 0b111 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(offset, 8)?;
                Value::Fixed64
            }
            2 => {
                let len = self.varint()?;
                Value::LengthDelimited(self.take(offset, len)?)
            }
            5 => {
                self.take(offset, 4)?;
                Value::Fixed32
            }
            wire_type => {
                return Err(KplError::UnsupportedWireType {
                    offset,
                    wire_type: wire_type as u8,
                });
            }
        };
        // For a length-delimited value the bytes just taken end at the reader's position.
        let value_offset = match value {
            Value::LengthDelimited(bytes) => self.offset() - bytes.len(),
            _ => offset,
        };
        Ok(Some(Field {
            number,
            value,
            value_offset,
        }))
    }

    fn varint(&mut self) -> Result<u64, KplError> {
        let offset = self.offset();
        let mut value = 0u64;
        for index in 0..MAX_VARINT_BYTES {
            let Some(&byte) = self.message.get(self.position) else {
                return Err(KplError::UnterminatedVarint { offset });
            };
            self.position += 1;
            // The tenth byte holds only the 64th bit; anything more would overflow.
            if index == MAX_VARINT_BYTES - 1 && byte > 1 {
                return Err(KplError::VarintTooLong { offset });
            }
            value |= u64::from(byte & 0x7F) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(KplError::VarintTooLong { offset })
    }

    /// The next `len` bytes of the field whose tag starts at `field_offset`.
    fn take(&mut self, field_offset: usize, len: u64) -> Result<&'a [u8], KplError> {
        let remaining = self.message.len() - self.position;
        let fits = usize::try_from(len).ok().filter(|&len| len <= remaining);
        let Some(len) = fits else {
            return Err(KplError::Truncated {
                offset: field_offset,
                needed: len,
                remaining,
            });
        };
        let bytes = &self.message[self.position..self.position + len];
        self.position += len;
        Ok(bytes)
    }
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7F) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn write_varint_field(out: &mut Vec<u8>, number: u64, value: u64) {
    write_varint(out, number << 3);
    write_varint(out, value);
}

fn write_bytes_field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    write_varint(out, (number << 3) | 2);
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames a protobuf message as an aggregated record with a correct digest, so malformed
    /// messages reach the protobuf reader.
    fn frame(message: &[u8]) -> Vec<u8> {
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(message);
        data.extend_from_slice(&Md5::digest(message));
        data
    }

    fn user_record<'a>(
        partition_key: &'a str,
        sub_sequence: u32,
        data: &'a [u8],
    ) -> UserRecord<'a> {
        UserRecord {
            partition_key: Cow::Borrowed(partition_key),
            sub_sequence,
            data,
        }
    }

    fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .filter(|window| *window == needle)
            .count()
    }

    #[test]
    fn given_records_with_shared_and_distinct_keys_when_round_tripped_then_all_come_back_in_order()
    {
        let records: [(&str, &[u8]); 5] = [
            ("tenant-acme", br#"{"meter":"api_calls","value":1}"#),
            ("tenant-globex", b"second"),
            ("tenant-acme", b""),
            ("tenant-initech", &[0x00, 0xFF, 0x80]),
            ("tenant-globex", &[0x42; 300]),
        ];

        let packed = aggregate(&records);
        let unpacked = deaggregate("outer-key", &packed).unwrap();

        let expected: Vec<UserRecord> = records
            .iter()
            .enumerate()
            .map(|(position, &(key, data))| user_record(key, position as u32, data))
            .collect();
        assert_eq!(unpacked, expected);
        // Each distinct partition key is stored once in the table.
        assert_eq!(occurrences(&packed, b"tenant-acme"), 1);
        assert_eq!(occurrences(&packed, b"tenant-globex"), 1);
        assert_eq!(occurrences(&packed, b"tenant-initech"), 1);
    }

    #[test]
    fn given_a_plain_record_when_deaggregated_then_it_is_one_user_record_unchanged() {
        let data = br#"{"tenant":"acme","meter":"api_calls","value":1}"#;

        let unpacked = deaggregate("acme", data).unwrap();

        assert_eq!(unpacked, vec![user_record("acme", 0, data)]);
        assert!(std::ptr::eq(unpacked[0].data, data.as_slice()));
    }

    #[test]
    fn given_the_magic_without_room_for_a_digest_when_deaggregated_then_it_passes_through() {
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&[0; DIGEST_BYTES - 1]);

        let unpacked = deaggregate("acme", &data).unwrap();

        assert_eq!(unpacked, vec![user_record("acme", 0, &data)]);
    }

    #[test]
    fn given_a_wrong_digest_when_deaggregated_then_the_whole_record_passes_through() {
        let mut data = aggregate(&[("acme", b"one"), ("globex", b"two")]);
        let last = data.len() - 1;
        data[last] ^= 0x01;

        let unpacked = deaggregate("outer-key", &data).unwrap();

        assert_eq!(unpacked, vec![user_record("outer-key", 0, &data)]);
    }

    #[test]
    fn given_a_changed_message_byte_when_deaggregated_then_the_digest_no_longer_matches() {
        let mut data = aggregate(&[("acme", b"one")]);
        // The last byte of the message: the final byte of the user record's data.
        let last_message_byte = data.len() - DIGEST_BYTES - 1;
        data[last_message_byte] = b'X';

        let unpacked = deaggregate("outer-key", &data).unwrap();

        assert_eq!(unpacked, vec![user_record("outer-key", 0, &data)]);
    }

    #[test]
    fn given_an_empty_aggregate_when_deaggregated_then_there_are_no_user_records() {
        let packed = aggregate(&[]);

        assert_eq!(packed, frame(&[]));
        assert_eq!(packed.len(), MAGIC.len() + DIGEST_BYTES);
        assert_eq!(deaggregate("acme", &packed).unwrap(), vec![]);
    }

    #[test]
    fn given_a_hand_built_aggregate_when_deaggregated_then_its_user_records_come_out() {
        #[rustfmt::skip]
        let data: &[u8] = &[
            0xF3, 0x89, 0x9A, 0xC2,             // the KPL magic
            0x0A, 0x04,                         // field 1 (partition_key_table), wire type 2, 4 bytes:
            b'a', b'c', b'm', b'e',             //   key 0 = "acme"
            0x0A, 0x06,                         // field 1 (partition_key_table), wire type 2, 6 bytes:
            b'g', b'l', b'o', b'b', b'e', b'x', //   key 1 = "globex"
            0x1A, 0x07,                         // field 3 (records), wire type 2, 7 bytes:
            0x08, 0x01,                         //   field 1 (partition_key_index), varint 1
            0x1A, 0x03, b'o', b'n', b'e',       //   field 3 (data), wire type 2, 3 bytes: "one"
            0x1A, 0x07,                         // field 3 (records), wire type 2, 7 bytes:
            0x08, 0x00,                         //   field 1 (partition_key_index), varint 0
            0x1A, 0x03, b't', b'w', b'o',       //   field 3 (data), wire type 2, 3 bytes: "two"
            // MD5 of the 30 message bytes above, computed with `md5sum`.
            0x0B, 0xB6, 0x50, 0x49, 0xA2, 0x1A, 0xFB, 0xAA,
            0x53, 0x23, 0x92, 0x51, 0x2E, 0x78, 0x5F, 0x3E,
        ];

        let unpacked = deaggregate("outer-key", data).unwrap();

        assert_eq!(
            unpacked,
            vec![
                user_record("globex", 0, b"one"),
                user_record("acme", 1, b"two")
            ]
        );
    }

    #[test]
    fn given_an_aggregate_from_another_producer_when_deaggregated_then_its_record_comes_out() {
        // The example output in the documentation of ExKpl, an Elixir KPL aggregator, for the
        // user record ("partition_key", "data").
        #[rustfmt::skip]
        let data: &[u8] = &[
            243, 137, 154, 194,                       // the KPL magic
            10, 13,                                   // field 1 (partition_key_table), 13 bytes:
            b'p', b'a', b'r', b't', b'i', b't', b'i', //   "partition_key"
            b'o', b'n', b'_', b'k', b'e', b'y',
            26, 8,                                    // field 3 (records), 8 bytes:
            8, 0,                                     //   partition_key_index 0
            26, 4, b'd', b'a', b't', b'a',            //   data, 4 bytes: "data"
            208, 54, 153, 218, 90, 34, 47, 163,       // MD5 of the message
            33, 8, 173, 27, 217, 85, 161, 78,
        ];

        let unpacked = deaggregate("outer-key", data).unwrap();

        assert_eq!(unpacked, vec![user_record("partition_key", 0, b"data")]);
        assert_eq!(aggregate(&[("partition_key", b"data")]), data);
    }

    #[test]
    fn given_explicit_hash_keys_tags_and_unknown_fields_when_deaggregated_then_they_are_skipped() {
        #[rustfmt::skip]
        let message: &[u8] = &[
            0x1A, 0x20,                         // field 3 (records), 32 bytes, before the table:
            0x08, 0x00,                         //   partition_key_index 0
            0x10, 0x00,                         //   field 2 (explicit_hash_key_index), varint 0
            0x22, 0x08,                         //   field 4 (tags), 8 bytes:
            0x0A, 0x01, b'k',                   //     key "k"
            0x12, 0x01, b'v',                   //     value "v"
            0x78, 0x05,                         //     field 15, varint 5 (unknown)
            0x79, 1, 2, 3, 4, 5, 6, 7, 8,       //   field 15, fixed64 (unknown)
            0x1A, 0x02, b'h', b'i',             //   data "hi"
            0x7D, 1, 2, 3, 4,                   //   field 15, fixed32 (unknown)
            0x12, 0x03, b'1', b'2', b'3',       // field 2 (explicit_hash_key_table): "123"
            0x0A, 0x04, b'a', b'c', b'm', b'e', // field 1 (partition_key_table): "acme"
            0x08, 0x07,                         // field 1 as a varint: unknown, read past
            0x7A, 0x02, 0xFF, 0xFF,             // field 15, 2 bytes (unknown)
            0x80, 0x01, 0x2A,                   // field 16 (a two-byte tag), varint 42 (unknown)
        ];

        let data = frame(message);
        let unpacked = deaggregate("outer-key", &data).unwrap();

        assert_eq!(unpacked, vec![user_record("acme", 0, b"hi")]);
    }

    #[test]
    fn given_a_partition_key_that_is_not_utf8_when_deaggregated_then_it_is_decoded_lossily() {
        #[rustfmt::skip]
        let message: &[u8] = &[
            0x0A, 0x03, b'a', 0xFF, b'b', // partition_key_table: "a", an invalid byte, "b"
            0x1A, 0x05,                   // records, 5 bytes:
            0x08, 0x00,                   //   partition_key_index 0
            0x1A, 0x01, b'x',             //   data "x"
        ];

        let data = frame(message);
        let unpacked = deaggregate("outer-key", &data).unwrap();

        assert_eq!(unpacked[0].partition_key, "a\u{FFFD}b");
        assert_eq!(unpacked[0].data, b"x");
    }

    #[test]
    fn given_a_partition_key_index_beyond_the_table_when_deaggregated_then_it_is_refused() {
        #[rustfmt::skip]
        let message: &[u8] = &[
            0x0A, 0x01, b'a',       // partition_key_table: "a"
            0x1A, 0x05,             // records, 5 bytes:
            0x08, 0x00,             //   partition_key_index 0
            0x1A, 0x01, b'x',       //   data "x"
            0x1A, 0x05,             // records, 5 bytes:
            0x08, 0x01,             //   partition_key_index 1: there is no key 1
            0x1A, 0x01, b'y',       //   data "y"
        ];

        let error = deaggregate("outer-key", &frame(message)).unwrap_err();

        assert_eq!(
            error,
            KplError::PartitionKeyIndexOutOfRange {
                record: 1,
                index: 1,
                table_len: 1
            }
        );
        assert_eq!(
            error.to_string(),
            "KPL aggregated record: user record 1 refers to partition key 1, but the table has 1 keys"
        );
    }

    #[test]
    fn given_an_aggregate_cut_short_when_deaggregated_then_the_truncated_field_is_named() {
        let whole = aggregate(&[("acme", b"one"), ("globex", b"two")]);
        let message = &whole[MAGIC.len()..whole.len() - DIGEST_BYTES];
        // Drop the last byte of the message: the last record now claims 7 bytes but 6 remain.
        let cut = &message[..message.len() - 1];

        let error = deaggregate("outer-key", &frame(cut)).unwrap_err();

        // The last record field (tag, length, 7-byte record) started 9 bytes before the end of
        // the whole message; its record now has 6 bytes left.
        assert_eq!(
            error,
            KplError::Truncated {
                offset: MAGIC.len() + message.len() - 9,
                needed: 7,
                remaining: 6
            }
        );
    }

    #[test]
    fn given_a_record_longer_than_its_message_when_deaggregated_then_truncation_is_reported() {
        let message: &[u8] = &[0x0A, 0x05, b'a']; // a 5-byte key with 1 byte left

        let error = deaggregate("outer-key", &frame(message)).unwrap_err();

        assert_eq!(
            error,
            KplError::Truncated {
                offset: 4,
                needed: 5,
                remaining: 1
            }
        );
        assert_eq!(
            error.to_string(),
            "KPL aggregated record: the field at byte 4 needs 5 bytes but its message has 1 \
             left (truncated)"
        );
    }

    #[test]
    fn given_a_nested_field_longer_than_its_record_when_deaggregated_then_its_offset_is_absolute() {
        #[rustfmt::skip]
        let message: &[u8] = &[
            0x0A, 0x01, b'a',       // partition_key_table: "a"     (bytes 4..7)
            0x1A, 0x05,             // records, 5 bytes:            (bytes 7..9)
            0x08, 0x00,             //   partition_key_index 0      (bytes 9..11)
            0x1A, 0x09, b'x',       //   data claims 9 bytes, the record has 1 left (byte 11)
            0x00, 0x00, 0x00, 0x00, // bytes outside the record, which the data must not reach
        ];

        let error = deaggregate("outer-key", &frame(message)).unwrap_err();

        assert_eq!(
            error,
            KplError::Truncated {
                offset: 11,
                needed: 9,
                remaining: 1
            }
        );
    }

    #[test]
    fn given_a_varint_cut_short_when_deaggregated_then_it_is_unterminated() {
        let message: &[u8] = &[0x0A, 0x80]; // a key whose length varint never ends

        let error = deaggregate("outer-key", &frame(message)).unwrap_err();

        assert_eq!(error, KplError::UnterminatedVarint { offset: 5 });
    }

    #[test]
    fn given_a_varint_beyond_64_bits_when_deaggregated_then_it_is_refused() {
        // Field 1 as a varint of eleven bytes, then one whose tenth byte carries bit 65.
        let eleven_bytes = [&[0x08][..], &[0xFF; 10], &[0x01]].concat();
        let overflowing = [&[0x08][..], &[0xFF; 9], &[0x02]].concat();

        for message in [eleven_bytes, overflowing] {
            let error = deaggregate("outer-key", &frame(&message)).unwrap_err();
            assert_eq!(error, KplError::VarintTooLong { offset: 5 });
        }
        // The largest varint, u64::MAX, is accepted (and read past as an unknown field).
        let largest = [&[0x08][..], &[0xFF; 9], &[0x01]].concat();
        assert_eq!(deaggregate("outer-key", &frame(&largest)).unwrap(), vec![]);
    }

    #[test]
    fn given_a_record_without_data_when_deaggregated_then_the_missing_field_is_named() {
        #[rustfmt::skip]
        let message: &[u8] = &[
            0x0A, 0x01, b'a', // partition_key_table: "a"
            0x1A, 0x02,       // records, 2 bytes:
            0x08, 0x00,       //   partition_key_index 0, and no data
        ];

        let error = deaggregate("outer-key", &frame(message)).unwrap_err();

        assert_eq!(
            error,
            KplError::MissingField {
                record: 0,
                offset: 9,
                field: "data"
            }
        );
    }

    #[test]
    fn given_a_group_or_field_number_zero_when_deaggregated_then_it_is_refused() {
        let group: &[u8] = &[0x0B]; // field 1, wire type 3 (start group)
        let zero: &[u8] = &[0x00, 0x00]; // field 0, varint 0

        assert_eq!(
            deaggregate("outer-key", &frame(group)).unwrap_err(),
            KplError::UnsupportedWireType {
                offset: 4,
                wire_type: 3
            }
        );
        assert_eq!(
            deaggregate("outer-key", &frame(zero)).unwrap_err(),
            KplError::ZeroFieldNumber { offset: 4 }
        );
    }
}
