//! A fast parser for the subscription document.
//!
//! It reads exactly the grammar `serde_json` accepts for [`LogsData`], but in one pass over the
//! bytes, with strings scanned eight bytes at a time. A message whose only escapes are two-byte ones
//! (`\"` `\\` `\n` `\t` …, the usual case) is kept escaped as an [`EscapedStr`], unescaped later
//! only if a filter needs its text; a message with `\u` or `\/` escapes is unescaped into one arena
//! (a `String` kept by the [`Decoder`](super::Decoder)) instead of one allocation each. It also
//! keeps, per event, the message's JSON string content as received when it is exactly what
//! [`json::write_str`](crate::json::write_str) would write, so that an encoder can copy it instead of
//! escaping it again.
//!
//! It gives up (returns `None`) on anything unusual — a syntax error, a duplicate or missing field,
//! a key with escapes, a number that is not a plain integer, an unpaired surrogate, deep nesting, a
//! top-level array — and the caller then parses with `serde_json`, which either reports the error
//! with its line and column or accepts the document. So it never decides what is valid: it only
//! accepts documents `serde_json` accepts, with the same result.
//!
//! The same scanner reads the hub's input on the same terms: the Kinesis event
//! ([`kinesis_event`]: the record data, base64 of up to 6 MB, found 64 bytes at a time) and the
//! lines of logrelay's `ndjson` records ([`ndjson_line`]).

use super::kinesis::{KinesisEvent, KinesisEventRecord, KinesisRecord};
use super::{EventId, ExtractedFields, LogEvent, LogsData, Message, MessageType, RawEvent};
use crate::json::classify::find_special;
use crate::json::string_end;
use crate::json::unescape::{hex4, unescape, ESCAPE, ESC_SLASH, ESC_TWO_BYTE, ESC_UNICODE};
use crate::json::EscapedStr;
use std::borrow::Cow;

/// Nesting depth of unknown values past which the fast parser gives up.
const MAX_DEPTH: usize = 64;

/// Parses `text` (the whole decompressed document). `arena` is cleared and receives the unescaped
/// messages. Each event carries its [`RawEvent`] text where it has one.
pub(super) fn parse<'a>(text: &'a str, arena: &'a mut String) -> Option<LogsData<'a>> {
    arena.clear();
    let mut s = Scanner::new(text);
    // Messages unescaped into the arena: (event index, start, end in the arena).
    let mut fixups: Vec<(usize, usize, usize)> = Vec::new();
    let mut message_type = None;
    let mut owner = None;
    let mut log_group = None;
    let mut log_stream = None;
    let mut filters = None;
    let mut events = None;
    let mut policy_level: Option<Option<Cow<'a, str>>> = None;

    s.ws();
    s.object(|s, key| {
        match key {
            b"messageType" => {
                once(&message_type)?;
                let t = s.string_value()?;
                message_type = Some(match t.as_ref() {
                    "DATA_MESSAGE" => MessageType::DataMessage,
                    "CONTROL_MESSAGE" => MessageType::ControlMessage,
                    other => MessageType::Other(other.to_owned()),
                });
            }
            b"owner" => {
                once(&owner)?;
                owner = Some(s.string_value()?);
            }
            b"logGroup" => {
                once(&log_group)?;
                log_group = Some(s.string_value()?);
            }
            b"logStream" => {
                once(&log_stream)?;
                log_stream = Some(s.string_value()?);
            }
            b"subscriptionFilters" => {
                once(&filters)?;
                filters = Some(s.string_array()?);
            }
            b"logEvents" => {
                once(&events)?;
                events = Some(s.events(arena, &mut fixups)?);
            }
            b"policyLevel" => {
                once(&policy_level)?;
                policy_level = Some(s.null_or(Scanner::string_value)?);
            }
            _ => s.skip_value(0)?,
        }
        Some(())
    })?;
    s.ws();
    if s.i != s.b.len() {
        return None;
    }
    let mut log_events = events?;
    let arena: &'a String = arena;
    for (event, start, end) in fixups {
        log_events.get_mut(event)?.message = Message::Text(Cow::Borrowed(arena.get(start..end)?));
    }
    Some(LogsData {
        message_type: message_type?,
        owner: owner?,
        log_group: log_group?,
        log_stream: log_stream?,
        subscription_filters: filters?,
        log_events,
        policy_level: policy_level.flatten(),
        region: None,
    })
}

/// Parses a Kinesis Lambda event (see [`super::kinesis::parse_event`]): `Records`, and in each
/// record `kinesis.sequenceNumber`, `kinesis.partitionKey`, `kinesis.data` and `eventID`, other
/// members skipped. Gives up on escapes in these strings, as on anything unusual.
pub(super) fn kinesis_event(text: &str) -> Option<KinesisEvent<'_>> {
    let mut s = Scanner::new(text);
    let mut records = None;
    s.ws();
    s.object(|s, key| {
        if key == b"Records" {
            once(&records)?;
            records = Some(s.array(Scanner::kinesis_event_record)?);
        } else {
            s.skip_value(0)?;
        }
        Some(())
    })?;
    s.ws();
    if s.i != s.b.len() {
        return None;
    }
    Some(KinesisEvent { records: records? })
}

/// One line of an `ndjson` record (see [`super::kinesis`]): the event and where it comes from.
#[derive(Debug)]
pub(super) struct NdjsonLine<'a> {
    pub owner: Cow<'a, str>,
    pub log_group: Cow<'a, str>,
    pub log_stream: Cow<'a, str>,
    pub region: Option<Cow<'a, str>>,
    pub event: LogEvent<'a>,
}

/// Parses one `ndjson` line (without its line break). Members other than the event's, its
/// origin's and `part`/`parts` (the enrichment) are skipped; gives up on a line with `part` or
/// `parts` (a fragment of an event, which the caller refuses with its id).
pub(super) fn ndjson_line(line: &str) -> Option<NdjsonLine<'_>> {
    let mut s = Scanner::new(line);
    let mut f = LineFields::default();
    s.ws();
    s.object(|s, key| f.member(s, key))?;
    s.ws();
    if s.i != s.b.len() {
        return None;
    }
    f.finish()
}

/// Reads the lines of one `ndjson` record in order. A line in the form `forward::ndjson` writes —
/// `{"owner":…,"logGroup":…,"logStream":…,"id":…,"timestamp":…,"message":…` then the other
/// members — is read with what the line before it shared: where it starts with the same origin
/// members, byte for byte, or ends with the same members after the message, those are not read
/// again (the same bytes read the same way; a record's lines usually share both). Any other line
/// goes to [`ndjson_line`].
#[derive(Default)]
pub(super) struct NdjsonReader<'a> {
    /// The last origin read: its text (`{"owner":…,"logStream":…,`) and values.
    origin: Option<(&'a str, [Cow<'a, str>; 3])>,
    /// The last members after a message read: their text (from the closing quote's next byte to
    /// the end of the line) and what they held (`region`, `extractedFields`).
    tail: Option<(&'a str, Tail<'a>)>,
}

/// What the members after a message held: `region` and `extractedFields`.
type Tail<'a> = (Option<Cow<'a, str>>, Option<ExtractedFields<'a>>);

impl<'a> NdjsonReader<'a> {
    /// Parses the next line (without its line break); `None` where [`ndjson_line`] gives up.
    pub(super) fn line(&mut self, line: &'a str) -> Option<NdjsonLine<'a>> {
        self.written_form(line).or_else(|| ndjson_line(line))
    }

    fn written_form(&mut self, line: &'a str) -> Option<NdjsonLine<'a>> {
        let mut s = Scanner::new(line);
        let mut f = LineFields::default();
        match &self.origin {
            Some((text, [owner, group, stream])) if line.starts_with(text) => {
                s.i = text.len();
                f.owner = Some(owner.clone());
                f.log_group = Some(group.clone());
                f.log_stream = Some(stream.clone());
            }
            _ => {
                s.literal(b"{\"owner\":")?;
                let owner = s.string_value()?;
                s.literal(b",\"logGroup\":")?;
                let group = s.string_value()?;
                s.literal(b",\"logStream\":")?;
                let stream = s.string_value()?;
                s.eat(b',')?;
                self.origin = Some((
                    line.get(..s.i)?,
                    [owner.clone(), group.clone(), stream.clone()],
                ));
                f.owner = Some(owner);
                f.log_group = Some(group);
                f.log_stream = Some(stream);
            }
        }
        s.literal(b"\"id\":")?;
        f.id = Some(s.event_id()?);
        s.literal(b",\"timestamp\":")?;
        f.timestamp = Some(s.integer()?);
        s.literal(b",\"message\":")?;
        let t = s.long_string()?;
        f.message = Some(s.owned_message(t)?);
        let tail = line.get(s.i..)?;
        match &self.tail {
            Some((text, (region, extracted))) if *text == tail => {
                f.region = Some(region.clone());
                f.extracted = Some(extracted.clone());
            }
            _ => {
                s.object_rest(|s, key| f.member(s, key))?;
                s.ws();
                if s.i != s.b.len() {
                    return None;
                }
                self.tail = Some((
                    tail,
                    (f.region.clone().flatten(), f.extracted.clone().flatten()),
                ));
            }
        }
        f.finish()
    }
}

/// The members of an `ndjson` line read so far.
#[derive(Default)]
struct LineFields<'a> {
    owner: Option<Cow<'a, str>>,
    log_group: Option<Cow<'a, str>>,
    log_stream: Option<Cow<'a, str>>,
    region: Option<Option<Cow<'a, str>>>,
    id: Option<EventId<'a>>,
    timestamp: Option<i64>,
    message: Option<Message<'a>>,
    extracted: Option<Option<ExtractedFields<'a>>>,
    part: Option<()>,
    parts: Option<()>,
}

impl<'a> LineFields<'a> {
    /// Reads the value of member `key`.
    fn member(&mut self, s: &mut Scanner<'a>, key: &[u8]) -> Option<()> {
        match key {
            b"owner" => {
                once(&self.owner)?;
                self.owner = Some(s.string_value()?);
            }
            b"logGroup" => {
                once(&self.log_group)?;
                self.log_group = Some(s.string_value()?);
            }
            b"logStream" => {
                once(&self.log_stream)?;
                self.log_stream = Some(s.string_value()?);
            }
            b"region" => {
                once(&self.region)?;
                self.region = Some(s.null_or(Scanner::string_value)?);
            }
            b"id" => {
                once(&self.id)?;
                self.id = Some(s.event_id()?);
            }
            b"timestamp" => {
                once(&self.timestamp)?;
                self.timestamp = Some(s.integer()?);
            }
            b"message" => {
                once(&self.message)?;
                let t = s.long_string()?;
                self.message = Some(s.owned_message(t)?);
            }
            b"extractedFields" => {
                once(&self.extracted)?;
                self.extracted = Some(s.extracted_fields()?);
            }
            // A fragment of an event: serde_json's reading of the line names it.
            b"part" => {
                once(&self.part)?;
                self.part = Some(s.literal(b"null")?);
            }
            b"parts" => {
                once(&self.parts)?;
                self.parts = Some(s.literal(b"null")?);
            }
            _ => s.skip_value(0)?,
        }
        Some(())
    }

    fn finish(self) -> Option<NdjsonLine<'a>> {
        Some(NdjsonLine {
            owner: self.owner?,
            log_group: self.log_group?,
            log_stream: self.log_stream?,
            region: self.region.flatten(),
            event: LogEvent::new(self.id?, self.timestamp?, self.message?)
                .with_extracted_fields(self.extracted.flatten()),
        })
    }
}

/// `None` when the field was already seen (serde reports a duplicate field).
fn once<T>(slot: &Option<T>) -> Option<()> {
    match slot {
        Some(_) => None,
        None => Some(()),
    }
}

/// A JSON string token: its content `start..end` in the text, and whether it holds escapes.
#[derive(Clone, Copy)]
struct StrTok {
    start: usize,
    end: usize,
    escaped: bool,
    /// All its escapes are two-byte ones other than `\/` (see [`EscapedStr`]).
    simple: bool,
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            b: text.as_bytes(),
            i: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// Reads a string token and checks its escapes (not the code points of `\u` escapes: that is
    /// done when unescaping, as serde_json does).
    fn string(&mut self) -> Option<StrTok> {
        self.eat(b'"')?;
        let start = self.i;
        let mut j = start;
        let mut escaped = false;
        let mut simple = true;
        loop {
            let k = find_special(self.b, j)?;
            if self.b[k] == b'\\' {
                escaped = true;
                let e = *self.b.get(k + 1)?;
                // A table rather than a match: escapes come in random order, and a jump table's
                // indirect branch mispredicts on most of them.
                match ESCAPE[usize::from(e)] {
                    ESC_TWO_BYTE => j = k + 2,
                    ESC_SLASH => {
                        simple = false;
                        j = k + 2;
                    }
                    ESC_UNICODE => {
                        simple = false;
                        hex4(self.b.get(k + 2..k + 6)?)?;
                        j = k + 6;
                    }
                    _ => return None,
                }
                continue;
            }
            if self.b[k] == b'"' {
                self.i = k + 1;
                return Some(StrTok {
                    start,
                    end: k,
                    escaped,
                    simple,
                });
            }
            // A control character.
            return None;
        }
    }

    /// [`string`](Self::string) for strings that are usually long and full of escapes (messages):
    /// 64 bytes at a time without a branch per escape (see [`string_end`]).
    fn long_string(&mut self) -> Option<StrTok> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        match string_end::scan(self.b, start) {
            Some(s) => {
                self.i = s.end + 1;
                Some(StrTok {
                    start,
                    end: s.end,
                    escaped: s.escaped,
                    simple: s.simple,
                })
            }
            // Invalid, or near the end of the text: the escape-by-escape scan decides.
            None => self.string(),
        }
    }

    /// An object key without escapes, as bytes.
    fn key(&mut self) -> Option<&'a [u8]> {
        let t = self.string()?;
        if t.escaped {
            return None;
        }
        self.b.get(t.start..t.end)
    }

    /// A string value: borrowed when it has no escapes, owned otherwise.
    fn string_value(&mut self) -> Option<Cow<'a, str>> {
        let t = self.string()?;
        let raw = self.text.get(t.start..t.end)?;
        if !t.escaped {
            return Some(Cow::Borrowed(raw));
        }
        let mut s = String::with_capacity(raw.len());
        unescape(raw, &mut s)?;
        Some(Cow::Owned(s))
    }

    fn string_array(&mut self) -> Option<Vec<Cow<'a, str>>> {
        self.eat(b'[')?;
        self.ws();
        let mut v = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(v);
        }
        loop {
            v.push(self.string_value()?);
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(v),
                _ => return None,
            }
        }
    }

    /// The `logEvents` array.
    fn events(
        &mut self,
        arena: &mut String,
        fixups: &mut Vec<(usize, usize, usize)>,
    ) -> Option<Vec<LogEvent<'a>>> {
        self.eat(b'[')?;
        self.ws();
        // An event takes at least 40 bytes of JSON; a bounded guess avoids regrowing the vectors.
        let guess = self.b.len().saturating_sub(self.i) / 160;
        let mut events = Vec::with_capacity(guess.min(16 * 1024));
        if self.peek()? == b']' {
            self.i += 1;
            return Some(events);
        }
        loop {
            let event = match self.canonical_event(arena, fixups, events.len()) {
                Some(canonical) => canonical,
                None => self.event(arena, fixups, events.len())?,
            };
            events.push(event);
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(events),
                _ => return None,
            }
        }
    }

    /// An event written exactly as CloudWatch Logs writes it, `{"id":"…","timestamp":…,"message":"…"}`
    /// with no whitespace: returns it with its raw message and its members' text when they are how
    /// this crate writes them. Anything else (other order, other fields, spaces, a non-canonical
    /// message) returns `None` with nothing consumed or recorded, for [`event`](Self::event).
    fn canonical_event(
        &mut self,
        arena: &mut String,
        fixups: &mut Vec<(usize, usize, usize)>,
        index: usize,
    ) -> Option<LogEvent<'a>> {
        let open = self.i;
        let got = self.canonical_event_inner(arena, fixups, index);
        if got.is_none() {
            self.i = open;
        }
        got
    }

    fn canonical_event_inner(
        &mut self,
        arena: &mut String,
        fixups: &mut Vec<(usize, usize, usize)>,
        index: usize,
    ) -> Option<LogEvent<'a>> {
        self.literal(b"{\"id\":")?;
        let members_start = self.i - 5;
        let id = if self.peek()? == b'"' {
            let t = self.string()?;
            if t.escaped {
                return None;
            }
            EventId::Str(Cow::Borrowed(self.text.get(t.start..t.end)?))
        } else {
            EventId::Int(self.unsigned()?)
        };
        self.literal(b",\"timestamp\":")?;
        let timestamp = self.integer()?;
        self.literal(b",\"message\":")?;
        let t = self.long_string()?;
        if self.peek()? != b'}' {
            return None;
        }
        let (message, raw) = self.message(t, arena, fixups, index)?;
        // Up to the closing quote of the message.
        let members = self.text.get(members_start..self.i)?;
        self.i += 1;
        Some(LogEvent {
            id,
            timestamp,
            message,
            extracted_fields: None,
            raw: RawEvent {
                message: raw,
                members: raw.map(|_| members),
            },
        })
    }

    /// The message of event `index` from its string token, with its raw content when that is in
    /// `json::write_str`'s form: borrowed when it has no escapes, kept escaped when its escapes are
    /// two-byte ones (unescaped only if a filter needs the text), unescaped into the arena
    /// otherwise (a fixup points the event at it). `None`, with the arena as it was, for an
    /// unpaired surrogate.
    fn message(
        &self,
        t: StrTok,
        arena: &mut String,
        fixups: &mut Vec<(usize, usize, usize)>,
        index: usize,
    ) -> Option<(Message<'a>, Option<&'a str>)> {
        let raw = self.text.get(t.start..t.end)?;
        if !t.escaped {
            return Some((Message::Text(Cow::Borrowed(raw)), Some(raw)));
        }
        if t.simple {
            return Some((Message::Escaped(EscapedStr::new_unchecked(raw)), Some(raw)));
        }
        let start = arena.len();
        let Some(canonical) = unescape(raw, arena) else {
            arena.truncate(start);
            return None;
        };
        fixups.push((index, start, arena.len()));
        Some((Message::Text(Cow::Borrowed("")), canonical.then_some(raw)))
    }

    fn event(
        &mut self,
        arena: &mut String,
        fixups: &mut Vec<(usize, usize, usize)>,
        index: usize,
    ) -> Option<LogEvent<'a>> {
        let mut id = None;
        let mut timestamp = None;
        let mut message: Option<(Message<'a>, Option<&'a str>)> = None;
        let mut extracted: Option<Option<ExtractedFields<'a>>> = None;
        self.object(|s, key| {
            match key {
                b"id" => {
                    once(&id)?;
                    id = Some(s.event_id()?);
                }
                b"timestamp" => {
                    once(&timestamp)?;
                    timestamp = Some(s.integer()?);
                }
                b"message" => {
                    once(&message)?;
                    let t = s.long_string()?;
                    message = Some(s.message(t, arena, fixups, index)?);
                }
                b"extractedFields" => {
                    once(&extracted)?;
                    extracted = Some(s.extracted_fields()?);
                }
                _ => s.skip_value(0)?,
            }
            Some(())
        })?;
        let (message, raw) = message?;
        Some(LogEvent {
            id: id?,
            timestamp: timestamp?,
            message,
            extracted_fields: extracted.flatten(),
            raw: RawEvent {
                message: raw,
                members: None,
            },
        })
    }

    /// An object: `member` is called with each key, the scanner at its value, and reads the value.
    fn object(&mut self, member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        self.members(member)
    }

    /// The rest of an object after a member's value: `}`, or `,` and more members.
    fn object_rest(&mut self, member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.ws();
        match self.next()? {
            b'}' => Some(()),
            b',' => {
                self.ws();
                self.members(member)
            }
            _ => None,
        }
    }

    /// Members up to the end of the object, from the first key.
    fn members(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        loop {
            let key = self.key()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            member(self, key)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// An array of values that `item` reads.
    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.eat(b'[')?;
        self.ws();
        let mut v = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(v);
        }
        loop {
            v.push(item(self)?);
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(v),
                _ => return None,
            }
        }
    }

    /// `null` as `None`, else the value `value` reads.
    fn null_or<T>(&mut self, value: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.b.get(self.i..self.i + 4) == Some(b"null") {
            self.i += 4;
            Some(None)
        } else {
            value(self).map(Some)
        }
    }

    /// An event id: a string, or an integer as CloudWatch Logs' test payloads have it.
    fn event_id(&mut self) -> Option<EventId<'a>> {
        Some(if self.peek()? == b'"' {
            EventId::Str(self.string_value()?)
        } else {
            EventId::Int(self.unsigned()?)
        })
    }

    /// An event's `extractedFields` value (`null` included), as its deserializer reads it.
    fn extracted_fields(&mut self) -> Option<Option<ExtractedFields<'a>>> {
        let start = self.i;
        self.skip_value(0)?;
        let raw = self.text.get(start..self.i)?;
        ExtractedFields::from_json(Cow::Borrowed(raw)).ok()
    }

    /// A message with no arena: borrowed when it has no escapes, kept escaped when its escapes
    /// are two-byte ones, unescaped into its own string otherwise.
    fn owned_message(&self, t: StrTok) -> Option<Message<'a>> {
        let raw = self.text.get(t.start..t.end)?;
        if !t.escaped {
            return Some(Message::Text(Cow::Borrowed(raw)));
        }
        if t.simple {
            return Some(Message::Escaped(EscapedStr::new_unchecked(raw)));
        }
        let mut text = String::with_capacity(raw.len());
        unescape(raw, &mut text)?;
        Some(Message::Text(Cow::Owned(text)))
    }

    /// A string without escapes, found 64 bytes at a time: for long values such as record data.
    fn plain_long_string(&mut self) -> Option<&'a str> {
        let t = self.long_string()?;
        if t.escaped {
            return None;
        }
        self.text.get(t.start..t.end)
    }

    /// One record of a Kinesis event.
    fn kinesis_event_record(&mut self) -> Option<KinesisEventRecord<'a>> {
        let mut kinesis = None;
        let mut event_id = None;
        self.object(|s, key| {
            match key {
                b"kinesis" => {
                    once(&kinesis)?;
                    kinesis = Some(s.kinesis_record()?);
                }
                b"eventID" => {
                    once(&event_id)?;
                    event_id = Some(s.null_or(Scanner::string_value)?);
                }
                _ => s.skip_value(0)?,
            }
            Some(())
        })?;
        Some(KinesisEventRecord {
            kinesis: kinesis?,
            event_id: event_id.flatten(),
        })
    }

    /// The `kinesis` member of a record of a Kinesis event.
    fn kinesis_record(&mut self) -> Option<KinesisRecord<'a>> {
        let (mut sequence_number, mut partition_key, mut data) = (None, None, None);
        self.object(|s, key| {
            match key {
                b"sequenceNumber" => {
                    once(&sequence_number)?;
                    sequence_number = Some(s.string_value()?);
                }
                b"partitionKey" => {
                    once(&partition_key)?;
                    partition_key = Some(s.string_value()?);
                }
                b"data" => {
                    once(&data)?;
                    data = Some(Cow::Borrowed(s.plain_long_string()?));
                }
                _ => s.skip_value(0)?,
            }
            Some(())
        })?;
        Some(KinesisRecord {
            sequence_number: sequence_number?,
            partition_key: partition_key.unwrap_or_default(),
            data: data?,
        })
    }

    /// A JSON integer (`0` or no leading zero) as sign and magnitude; `None` if it does not fit a
    /// u64, or has a fraction or an exponent (serde_json then reads a float, which these fields
    /// refuse).
    fn digits(&mut self) -> Option<(bool, u64)> {
        let negative = self.peek()? == b'-';
        if negative {
            self.i += 1;
        }
        let start = self.i;
        let mut n: u64 = 0;
        // Eight digits at a time while they last (twice at most: 10^16 cannot overflow).
        for _ in 0..2 {
            let Some(d) = self.b.get(self.i..self.i + 8).and_then(eight_digits) else {
                break;
            };
            n = n * 100_000_000 + d;
            self.i += 8;
        }
        // Up to seven more in one step.
        if let Some((k, d)) = self.b.get(self.i..self.i + 8).and_then(short_digits) {
            n = n.checked_mul(10u64.pow(k))?.checked_add(d)?;
            self.i += k as usize;
        }
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(d))?;
            self.i += 1;
        }
        let len = self.i - start;
        if len == 0 || (len > 1 && self.b[start] == b'0') {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        if negative && n == 0 {
            // serde_json reads `-0` as a float, which these fields refuse.
            return None;
        }
        Some((negative, n))
    }

    /// A non-negative integer that fits a u64.
    fn unsigned(&mut self) -> Option<u64> {
        match self.digits()? {
            (false, n) => Some(n),
            (true, _) => None,
        }
    }

    /// An integer that fits an i64.
    fn integer(&mut self) -> Option<i64> {
        match self.digits()? {
            (true, n) => 0i64.checked_sub_unsigned(n),
            (false, n) => i64::try_from(n).ok(),
        }
    }

    /// Skips any JSON value, checking its syntax.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => self.ws(),
                        b'}' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => self.ws(),
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    /// A JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.peek()? == b'-' {
            self.i += 1;
        }
        let int = self.run_of_digits();
        if int == 0 || (int > 1 && self.b.get(self.i - int) == Some(&b'0')) {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.run_of_digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.run_of_digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn run_of_digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }
}

/// The value of eight ASCII digits, or `None` if some byte is not a digit (SWAR: one load, two
/// checks and three multiplications instead of eight steps).
#[inline]
fn eight_digits(b: &[u8]) -> Option<u64> {
    let mut w = [0u8; 8];
    w.copy_from_slice(b.get(..8)?);
    let x = u64::from_le_bytes(w);
    const NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    // A byte is a digit when its high nibble is 3 and stays 3 after adding 6 (0x39 + 6 = 0x3F).
    if x & NIBBLES != THREES || x.wrapping_add(0x0606_0606_0606_0606) & NIBBLES != THREES {
        return None;
    }
    let v = x - THREES;
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((v.wrapping_mul(10_000) + (v >> 32)) & 0xFFFF_FFFF)
}

/// The leading digits of eight bytes when there are 1 to 7 of them: their count and value.
#[inline]
fn short_digits(b: &[u8]) -> Option<(u32, u64)> {
    let mut w = [0u8; 8];
    w.copy_from_slice(b.get(..8)?);
    let x = u64::from_le_bytes(w);
    const THREES: u64 = 0x3030_3030_3030_3030;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // t < 10 exactly for digits; (t & 0x7f) + 0x76 sets the high bit for 10..=0x7f without
    // carrying into the next byte, and t's own high bit covers the rest.
    let t = x ^ THREES;
    let non_digit = (((t & LOW7) + 0x7676_7676_7676_7676) | t) & HIGH;
    let k = non_digit.trailing_zeros() / 8;
    if k == 0 || k == 8 {
        return None;
    }
    // The k digits in the high bytes, '0's below: the value of eight digits is theirs.
    let padded = (x << (8 * (8 - k))) | (THREES >> (8 * k));
    Some((k, eight_digits(&padded.to_le_bytes())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_digits_agrees_with_parse() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut b: [u8; 8] = rng.to_le_bytes();
            // Mostly digits, sometimes a neighbour of the digit range.
            for (k, c) in b.iter_mut().enumerate() {
                let r = (rng >> (k * 3)) as u8;
                *c = if r.is_multiple_of(11) {
                    b"/:0 9\xff"[usize::from(r % 6)]
                } else {
                    b'0' + r % 10
                };
            }
            let want = std::str::from_utf8(&b)
                .ok()
                .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok());
            assert_eq!(eight_digits(&b), want, "{b:?}");
        }
        assert_eq!(eight_digits(b"12345678"), Some(12_345_678));
        assert_eq!(eight_digits(b"00000000"), Some(0));
        assert_eq!(eight_digits(b"99999999"), Some(99_999_999));
        assert_eq!(eight_digits(b"1234567"), None);
    }

    #[test]
    fn short_digits_reads_the_leading_digits() {
        assert_eq!(short_digits(b"12345,\"m"), Some((5, 12_345)));
        assert_eq!(short_digits(b"7:aaaaaa"), Some((1, 7)));
        assert_eq!(short_digits(b"0000001}"), Some((7, 1)));
        assert_eq!(short_digits(b"12345678"), None);
        assert_eq!(short_digits(b",1234567"), None);
        for bytes in [
            &b"12\xff4567x"[..],
            b"12/45678x",
            b"123:5678x",
            b"1234\x005xy",
        ] {
            let want = bytes.iter().take_while(|c| c.is_ascii_digit()).count() as u32;
            assert_eq!(
                short_digits(&bytes[..8]).map(|(k, _)| k),
                Some(want),
                "{bytes:?}"
            );
        }
    }

    /// Whether `part` lies inside `whole`'s bytes.
    fn within(part: &str, whole: &str) -> bool {
        let range = whole.as_bytes().as_ptr_range();
        range.contains(&part.as_ptr()) || part.is_empty()
    }

    #[test]
    fn the_ndjson_reader_reads_the_written_form_once_per_origin_and_tail() {
        let first = r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"a","region":"eu-west-1","extractedFields":{"@aws.account":"1"}}"#;
        // The same origin and tail in another buffer, with another event between them.
        let second = first.replace(
            r#""id":"3","timestamp":5,"message":"a""#,
            r#""id":"4","timestamp":6,"message":"b""#,
        );
        let mut reader = NdjsonReader::default();
        let a = reader.line(first).unwrap();
        assert!(
            reader.origin.is_some() && reader.tail.is_some(),
            "written form not taken"
        );
        let b = reader.line(&second).unwrap();
        assert_eq!((a.event.timestamp, b.event.timestamp), (5, 6));
        assert_eq!(b.event.message, "b");
        // The origin and the members after the message were not read again: the second line's
        // values are those read from the first.
        for (x, y) in [(&a.owner, &b.owner), (&a.log_group, &b.log_group)] {
            assert_eq!(x, y);
            assert!(within(y, first), "{y} read again");
        }
        let region = b.region.as_deref().unwrap();
        assert!(
            region == "eu-west-1" && within(region, first),
            "region read again"
        );
        let fields = b.event.extracted_fields.as_ref().unwrap();
        assert_eq!(fields.get("@aws.account"), Some("1"));
        assert!(
            within(fields.raw_json(), first),
            "extractedFields read again"
        );
        // A line with another origin or tail is read in full.
        let third = second
            .replace(r#""owner":"1""#, r#""owner":"2""#)
            .replace("eu-west-1", "us-east-1");
        let c = reader.line(&third).unwrap();
        assert!(within(&c.owner, &third) && c.owner == "2");
        assert!(within(c.region.as_deref().unwrap(), &third));
        // A line that ends with its message is in the written form too.
        let last =
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"5","timestamp":7,"message":"c"}"#;
        let d = NdjsonReader::default().written_form(last).unwrap();
        assert_eq!((d.event.timestamp, d.region), (7, None));
    }

    /// The fast parser agrees with serde_json, or gives up.
    fn check(doc: &str) -> Option<LogsData<'static>> {
        let mut arena = String::new();
        let fast = parse(doc, &mut arena).map(|p| {
            for e in &p.log_events {
                if let Some(raw) = e.raw.message {
                    let mut w = Vec::new();
                    crate::json::write_str(&mut w, &e.message.text());
                    assert_eq!(&w[1..w.len() - 1], raw.as_bytes(), "{doc}");
                }
            }
            for e in &p.log_events {
                if let Some(members) = e.raw.members {
                    let mut w = b"\"id\":".to_vec();
                    e.id.write_json(&mut w);
                    w.extend_from_slice(b",\"timestamp\":");
                    crate::json::write_i64(&mut w, e.timestamp);
                    w.extend_from_slice(b",\"message\":");
                    crate::json::write_str(&mut w, &e.message.text());
                    assert_eq!(String::from_utf8_lossy(&w), members, "{doc}");
                }
            }
            owned(&p)
        });
        let slow: Result<LogsData<'_>, _> = serde_json::from_str(doc);
        if let Some(f) = &fast {
            assert_eq!(Some(f), slow.as_ref().ok().map(owned).as_ref(), "{doc}");
        }
        fast
    }

    fn raw_messages<'a>(d: &LogsData<'a>) -> Vec<Option<&'a str>> {
        d.log_events.iter().map(|e| e.raw.message).collect()
    }

    fn owned(d: &LogsData<'_>) -> LogsData<'static> {
        let o = |c: &Cow<'_, str>| Cow::Owned(c.to_string());
        LogsData {
            message_type: d.message_type.clone(),
            owner: o(&d.owner),
            log_group: o(&d.log_group),
            log_stream: o(&d.log_stream),
            subscription_filters: d.subscription_filters.iter().map(o).collect(),
            log_events: d
                .log_events
                .iter()
                .map(|e| {
                    let id = match &e.id {
                        EventId::Str(s) => EventId::Str(o(s)),
                        EventId::Int(n) => EventId::Int(*n),
                    };
                    LogEvent::new(id, e.timestamp, Message::from(e.message.to_string()))
                        .with_extracted_fields(e.extracted_fields.as_ref().map(|x| {
                            ExtractedFields::from_json(Cow::Owned(x.raw_json().to_owned()))
                                .unwrap()
                                .unwrap()
                        }))
                })
                .collect(),
            policy_level: d.policy_level.as_ref().map(o),
            region: None,
        }
    }

    const HEAD: &str = r#""messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"]"#;

    fn doc(events: &str) -> String {
        format!(r#"{{{HEAD},"logEvents":[{events}]}}"#)
    }

    #[test]
    fn extracted_fields_are_read_and_kept_as_received() {
        let d = doc(
            r#"{"id":"1","timestamp":10,"message":"m","extractedFields":{"@aws.account":"123456789012", "@aws.region":"us-east-1","n":1}}"#,
        );
        let mut arena = String::new();
        let p = parse(&d, &mut arena).unwrap();
        let x = p.log_events[0].extracted_fields.as_ref().unwrap();
        assert_eq!(x.get("@aws.account"), Some("123456789012"));
        assert_eq!(x.get("@aws.region"), Some("us-east-1"));
        assert_eq!(x.get("n"), None, "only string members are read");
        assert_eq!(
            x.raw_json(),
            r#"{"@aws.account":"123456789012", "@aws.region":"us-east-1","n":1}"#
        );
        let slow: LogsData<'_> = serde_json::from_str(&d).unwrap();
        assert_eq!(slow.log_events[0].extracted_fields.as_ref(), Some(x));
    }

    #[test]
    fn agrees_with_serde_on_valid_documents() {
        let ok = [
            doc(r#"{"id":"1","timestamp":10,"message":"plain"}"#),
            doc(r#"{"message":"m","timestamp":-5,"id":7,"extra":[1,-2.5e+3,{"a":null},true,false,"x\"y"]}"#),
            doc(r#"{"id":"1","timestamp":0,"message":"tab\there \"q\" back\\slash \u0001 \u001f \/ \u00e9 \u00E9 \ud83d\ude00 \b\f\r\n"}"#),
            doc(""),
            format!(" {{ {} , \"logEvents\" : [ {{ \"id\" : 18446744073709551615 , \"timestamp\" : -9223372036854775808 , \"message\" : \"\" }} ] , \"policyLevel\" : null }} ", HEAD.replace(',', " , ")),
            format!(r#"{{{HEAD},"logEvents":[],"policyLevel":"ACCOUNT_LEVEL_POLICY","x":{{}},"y":[]}}"#),
            r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#.to_owned(),
            r#"{"messageType":"X","owner":"o\u00e9","logGroup":"g\/h","logStream":"s","subscriptionFilters":["a\nb", "c" ,"d"],"logEvents":[]}"#.to_owned(),
            doc(r#"{"id":"1","timestamp":10,"message":"m","extractedFields":{"@aws.account":"123456789012","@aws.region":"us-east-1"}},{"id":"2","timestamp":11,"message":"n","extractedFields":null},{"extractedFields": { "@source.log" : "/g" , "n" : 1 },"id":"3","timestamp":12,"message":"o"}"#),
        ];
        for d in &ok {
            assert!(check(d).is_some(), "fast path refused {d}");
        }
        let mut arena = String::new();
        let p = parse(&ok[2], &mut arena).unwrap();
        assert_eq!(
            p.log_events[0].message,
            "tab\there \"q\" back\\slash \u{1} \u{1f} / é é 😀 \u{8}\u{c}\r\n"
        );
        // `\/`, `\u00e9` and the surrogate pair are not how serde_json writes them: no raw copy.
        assert_eq!(raw_messages(&p), vec![None]);
        let p = parse(&ok[0], &mut arena).unwrap();
        assert_eq!(raw_messages(&p), vec![Some("plain")]);
        let d = doc(r#"{"id":"1","timestamp":0,"message":"a\"b\\c\n\u0001"}"#);
        let p = parse(&d, &mut arena).unwrap();
        assert_eq!(raw_messages(&p), vec![Some(r#"a\"b\\c\n\u0001"#)]);
    }

    #[test]
    fn canonical_events_keep_their_members() {
        let long = "at com.example.Service.call(Service.java:42)\\n\\t".repeat(5);
        let events = [
            (
                format!(r#"{{"id":"36","timestamp":1700000000000,"message":"{long}"}}"#),
                true,
            ),
            (
                r#"{"id":7,"timestamp":5,"message":"say \"hi\" \\ \b\f\r"}"#.to_owned(),
                true,
            ),
            (
                r#"{"id":"1","timestamp":-5,"message":"m"}"#.to_owned(),
                true,
            ),
            (
                r#"{"id":"1","timestamp":5,"message":"\u00e9"}"#.to_owned(),
                false,
            ),
            (
                r#"{"id":"1","timestamp":5,"message":"\u0001"}"#.to_owned(),
                true,
            ),
            (
                r#"{"id":"1","timestamp":5,"message":"m","x":1}"#.to_owned(),
                false,
            ),
            (
                r#"{"id":"1", "timestamp":5,"message":"m"}"#.to_owned(),
                false,
            ),
            (
                r#"{"timestamp":5,"id":"1","message":"m"}"#.to_owned(),
                false,
            ),
            (
                r#"{"id":"a\u0062","timestamp":5,"message":"m"}"#.to_owned(),
                false,
            ),
        ];
        for (event, canonical) in &events {
            let d = doc(&format!("{event},{event}"));
            check(&d).unwrap_or_else(|| panic!("fast path refused {d}"));
            let mut arena = String::new();
            let p = parse(&d, &mut arena).unwrap();
            assert_eq!(p.log_events[0].raw.members.is_some(), *canonical, "{event}");
            if *canonical {
                assert_eq!(
                    Some(&event[1..event.len() - 1]),
                    p.log_events[1].raw.members,
                    "{event}"
                );
            }
        }
        // A message longer than a scan block, with escapes at every offset around block edges.
        for pad in 0..70 {
            let msg = format!("{}{}", "x".repeat(pad), r#"\"\\\n\"q\u00e9\\"#.repeat(9));
            let d = doc(&format!(r#"{{"id":"1","timestamp":5,"message":"{msg}"}}"#));
            check(&d).unwrap_or_else(|| panic!("fast path refused {d}"));
        }
    }

    #[test]
    fn gives_up_on_what_serde_rejects_or_reads_differently() {
        let refused = [
            doc(r#"{"id":"1","timestamp":1.0,"message":"m"}"#),
            doc(r#"{"id":"1","timestamp":1e3,"message":"m"}"#),
            doc(r#"{"id":-1,"timestamp":1,"message":"m"}"#),
            doc(r#"{"id":18446744073709551616,"timestamp":1,"message":"m"}"#),
            doc(r#"{"id":"1","timestamp":9223372036854775808,"message":"m"}"#),
            doc(r#"{"id":"1","timestamp":01,"message":"m"}"#),
            doc(r#"{"id":"1","timestamp":-0,"message":"m"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"m","message":"n"}"#),
            doc(r#"{"id":"1","timestamp":1}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"bad \x escape"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"lone \ud800"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"lone \udc00"}"#),
            doc("{\"id\":\"1\",\"timestamp\":1,\"message\":\"raw\ttab\"}"),
            doc(r#"{"id":"1","timestamp":1,"message":"m","x":01}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"m","x":tru}"#),
            doc(r#"{"id":"1","timestamp":1,"\u006dessage":"m"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"m"},"#),
            doc(r#"{"id":"1","timestamp":1,"message":"unterminated}]}"#),
            format!(r#"{{{HEAD},"logEvents":[]}} x"#),
            format!(r#"{{{HEAD},"logEvents":[],"owner":"2"}}"#),
            format!(r#"{{{HEAD}}}"#),
            format!(r#"{{{HEAD},"logEvents":[],"policyLevel":1}}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"m","extractedFields":["@aws.account"]}"#),
            doc(
                r#"{"id":"1","timestamp":1,"message":"m","extractedFields":{},"extractedFields":{}}"#,
            ),
            format!(
                r#"{{{HEAD},"logEvents":[],"x":{}}}"#,
                "[".repeat(100) + &"]".repeat(100)
            ),
            // Nested objects too: the scanner's recursion is bounded (serde_json reads these).
            format!(
                r#"{{{HEAD},"logEvents":[],"x":{}1{}}}"#,
                r#"{"a":"#.repeat(100),
                "}".repeat(100)
            ),
            r#"["DATA_MESSAGE","1","g","s",[],[]]"#.to_owned(),
            String::new(),
        ];
        for d in &refused {
            assert!(check(d).is_none(), "fast path accepted {d}");
        }
    }
}
