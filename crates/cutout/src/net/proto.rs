//! The part of ONNX's protobuf schema (`onnx.proto`, IR version 3+) the network needs: a graph's
//! nodes, their attributes and the weight tensors. A small reader of protobuf's wire format, so
//! the browser worker does not carry a protobuf library for one file.

use super::LoadError;

/// One field of a protobuf message.
enum Field<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn bad(what: &str) -> LoadError {
    LoadError(format!("the model file is not valid ONNX ({what})"))
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, LoadError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| bad("truncated number"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(bad("number longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| bad("truncated field"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field number and value, or `None` at the end of the message.
    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, LoadError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Field::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| bad("field too long"))?;
                Field::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Field::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => return Err(bad("unknown wire type")),
        };
        Ok(Some((key >> 3, field)))
    }
}

fn string(b: &[u8]) -> Result<String, LoadError> {
    String::from_utf8(b.to_vec()).map_err(|_| bad("a name is not UTF-8"))
}

/// Repeated int64s, packed or not.
fn push_ints(out: &mut Vec<i64>, f: Field<'_>) -> Result<(), LoadError> {
    match f {
        Field::Varint(v) => out.push(v as i64),
        Field::Bytes(b) => {
            let mut r = Reader::new(b);
            while r.pos < b.len() {
                out.push(r.varint()? as i64);
            }
        }
        _ => return Err(bad("integers of the wrong type")),
    }
    Ok(())
}

/// Repeated floats, packed or not.
fn push_floats(out: &mut Vec<f32>, f: Field<'_>) -> Result<(), LoadError> {
    match f {
        Field::Fixed32(v) => out.push(f32::from_bits(v)),
        Field::Bytes(b) if b.len() % 4 == 0 => out.extend(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        _ => return Err(bad("floats of the wrong type")),
    }
    Ok(())
}

/// A tensor's data, converted to what the network computes with.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Floats(Vec<f32>),
    Ints(Vec<i64>),
}

/// `TensorProto`: a weight tensor or a constant.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub name: String,
    pub dims: Vec<usize>,
    pub data: Data,
}

const FLOAT: u64 = 1;
const INT32: u64 = 6;
const INT64: u64 = 7;

fn tensor(b: &[u8]) -> Result<Tensor, LoadError> {
    let mut r = Reader::new(b);
    let (mut name, mut dims, mut kind) = (String::new(), Vec::new(), 0u64);
    let (mut floats, mut ints, mut raw) = (Vec::new(), Vec::new(), None);
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, f) => push_ints(&mut dims, f)?,
            (2, Field::Varint(v)) => kind = v,
            (4, f) => push_floats(&mut floats, f)?,
            (5 | 7, f) => push_ints(&mut ints, f)?,
            (8, Field::Bytes(s)) => name = string(s)?,
            (9, Field::Bytes(s)) => raw = Some(s),
            _ => {}
        }
    }
    let dims = dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad("a negative dimension")))
        .collect::<Result<Vec<_>, _>>()?;
    let len = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad("a tensor too large"))?;
    let data = match (kind, raw) {
        (FLOAT, Some(raw)) => {
            let mut v = Vec::with_capacity(raw.len() / 4);
            push_floats(&mut v, Field::Bytes(raw))?;
            Data::Floats(v)
        }
        (FLOAT, None) => Data::Floats(floats),
        (INT64, Some(raw)) if raw.len() % 8 == 0 => Data::Ints(
            raw.chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
        (INT32, Some(raw)) if raw.len() % 4 == 0 => Data::Ints(
            raw.chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        (INT64 | INT32, None) => Data::Ints(ints),
        (k, _) => {
            return Err(LoadError(format!(
                "tensor `{name}` has data type {k}, which the network does not use"
            )))
        }
    };
    let got = match &data {
        Data::Floats(v) => v.len(),
        Data::Ints(v) => v.len(),
    };
    if got != len {
        return Err(LoadError(format!(
            "tensor `{name}` holds {got} values for its shape {dims:?}"
        )));
    }
    Ok(Tensor { name, dims, data })
}

/// An attribute's value (the kinds the network's operators use).
#[derive(Debug, Clone, Default)]
pub struct Attr {
    pub name: String,
    pub i: Option<i64>,
    pub s: Option<String>,
    pub ints: Vec<i64>,
    pub t: Option<Tensor>,
}

fn attr(b: &[u8]) -> Result<Attr, LoadError> {
    let mut r = Reader::new(b);
    let mut a = Attr::default();
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(s)) => a.name = string(s)?,
            (3, Field::Varint(v)) => a.i = Some(v as i64),
            (4, Field::Bytes(s)) => a.s = Some(string(s)?),
            (5, Field::Bytes(s)) => a.t = Some(tensor(s)?),
            (8, f) => push_ints(&mut a.ints, f)?,
            _ => {}
        }
    }
    Ok(a)
}

/// `NodeProto`: one operator application.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: Vec<Attr>,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn ints(&self, name: &str) -> &[i64] {
        self.attr(name).map_or(&[], |a| &a.ints)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.attr(name).and_then(|a| a.i)
    }

    pub fn string(&self, name: &str) -> Option<&str> {
        self.attr(name).and_then(|a| a.s.as_deref())
    }
}

fn node(b: &[u8]) -> Result<Node, LoadError> {
    let mut r = Reader::new(b);
    let mut n = Node::default();
    while let Some((k, f)) = r.next()? {
        match (k, f) {
            (1, Field::Bytes(s)) => n.inputs.push(string(s)?),
            (2, Field::Bytes(s)) => n.outputs.push(string(s)?),
            (4, Field::Bytes(s)) => n.op = string(s)?,
            (5, Field::Bytes(s)) => n.attrs.push(attr(s)?),
            _ => {}
        }
    }
    Ok(n)
}

/// `ValueInfoProto`'s name.
fn value_name(b: &[u8]) -> Result<String, LoadError> {
    let mut r = Reader::new(b);
    while let Some((k, f)) = r.next()? {
        if let (1, Field::Bytes(s)) = (k, f) {
            return string(s);
        }
    }
    Err(bad("an input or output without a name"))
}

/// `GraphProto`.
#[derive(Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub initializers: Vec<Tensor>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

/// Reads the graph of an ONNX `ModelProto`.
pub fn read_graph(bytes: &[u8]) -> Result<Graph, LoadError> {
    let mut r = Reader::new(bytes);
    let mut graph = None;
    while let Some((k, f)) = r.next()? {
        if let (7, Field::Bytes(s)) = (k, f) {
            graph = Some(s);
        }
    }
    let mut r = Reader::new(graph.ok_or_else(|| bad("no graph"))?);
    let mut g = Graph::default();
    while let Some((k, f)) = r.next()? {
        match (k, f) {
            (1, Field::Bytes(s)) => g.nodes.push(node(s)?),
            (5, Field::Bytes(s)) => g.initializers.push(tensor(s)?),
            (11, Field::Bytes(s)) => g.inputs.push(value_name(s)?),
            (12, Field::Bytes(s)) => g.outputs.push(value_name(s)?),
            _ => {}
        }
    }
    if g.nodes.is_empty() {
        return Err(bad("a graph with no nodes"));
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_garbage_bytes_are_errors_not_panics() {
        for bytes in [
            &b""[..],
            b"\x3a",
            b"\x3a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x3a\x05\x0a\x03ab",
            b"\x0f\x00",
            b"not an onnx file at all",
        ] {
            assert!(read_graph(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn packed_and_unpacked_repeated_fields_read_the_same() {
        let mut packed = Vec::new();
        push_ints(&mut packed, Field::Bytes(&[1, 0x96, 0x01, 3])).unwrap();
        let mut single = Vec::new();
        for v in [1, 150, 3] {
            push_ints(&mut single, Field::Varint(v)).unwrap();
        }
        assert_eq!(packed, vec![1, 150, 3]);
        assert_eq!(packed, single);
    }
}
