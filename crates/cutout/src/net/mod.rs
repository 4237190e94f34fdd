//! A small inference engine for U²-Net-p's ONNX graph, written for its shapes: 3×3 (dilated)
//! and 1×1 convolutions with their ReLU fused, 2×2 max-pooling, bilinear upsampling, channel
//! concatenation, residual additions and a sigmoid.
//!
//! Loading reads the ONNX file (`proto`), folds the graph's shape arithmetic (the `Shape →
//! Gather → Concat` chains that give each upsampling its size) for the fixed input, and turns the
//! rest into a list of [`Step`]s over numbered buffers, each freed after its last use. The
//! convolutions' weights are repacked once for the kernel in `ops`, or transformed for Winograd's
//! algorithm (`winograd`). Nothing is optimised at load time beyond that, so a load is a parse and
//! a copy.

mod ops;
pub use ops::Algo;
mod proto;
mod winograd;

use std::collections::HashMap;

/// Why the network could not be built from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One operation of the plan. Buffers are numbered; shapes are C×H×W (batch 1).
#[derive(Debug)]
enum Step {
    Conv(ops::Conv),
    MaxPool {
        x: usize,
        out: usize,
        c: usize,
        h: usize,
        w: usize,
    },
    Resize {
        x: usize,
        out: usize,
        c: usize,
        from: (usize, usize),
        to: (usize, usize),
    },
    Concat {
        xs: Vec<usize>,
        out: usize,
    },
    Add {
        a: usize,
        b: usize,
        out: usize,
    },
    Relu {
        x: usize,
        out: usize,
    },
    Sigmoid {
        x: usize,
        out: usize,
    },
}

impl Step {
    fn reads(&self) -> Vec<usize> {
        match self {
            Step::Conv(c) => vec![c.x],
            Step::MaxPool { x, .. }
            | Step::Resize { x, .. }
            | Step::Relu { x, .. }
            | Step::Sigmoid { x, .. } => vec![*x],
            Step::Concat { xs, .. } => xs.clone(),
            Step::Add { a, b, .. } => vec![*a, *b],
        }
    }
}

/// A value while the graph is folded: integers (shape arithmetic, computed now), constant floats
/// (weights), or an activation that a step will compute.
#[derive(Debug, Clone)]
enum Val {
    Ints(Vec<i64>),
    Floats { dims: Vec<usize>, data: Vec<f32> },
    Act { buf: usize, chw: [usize; 3] },
}

/// The network, ready to run: a list of steps and the size of its input.
#[derive(Debug)]
pub struct Net {
    steps: Vec<Step>,
    /// For each step, the buffers whose last reader it is.
    frees: Vec<Vec<usize>>,
    buffers: usize,
    input: [usize; 3],
    output: (usize, [usize; 3]),
}

fn err<T>(msg: impl Into<String>) -> Result<T, LoadError> {
    Err(LoadError(msg.into()))
}

impl Net {
    /// Builds the network of an ONNX file for a 1×C×H×W input, computing its first output.
    pub fn from_onnx(bytes: &[u8], input: [usize; 3]) -> Result<Net, LoadError> {
        Net::from_onnx_with(bytes, input, Algo::Winograd)
    }

    /// The same, choosing how undilated 3×3 convolutions are computed (for benchmarks and
    /// tests that compare the ways).
    pub fn from_onnx_with(bytes: &[u8], input: [usize; 3], algo: Algo) -> Result<Net, LoadError> {
        let graph = proto::read_graph(bytes)?;
        let out_name = graph
            .outputs
            .first()
            .cloned()
            .ok_or_else(|| LoadError("the model has no output".into()))?;

        // Only the nodes the first output needs (U²-Net's six side outputs feed the training
        // loss), and how many of them read each value.
        let producer: HashMap<&str, usize> = graph
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.outputs.iter().map(move |o| (o.as_str(), i)))
            .collect();
        let mut needed = vec![false; graph.nodes.len()];
        let mut todo = vec![out_name.as_str()];
        while let Some(v) = todo.pop() {
            if let Some(&i) = producer.get(v) {
                if !needed[i] {
                    needed[i] = true;
                    todo.extend(graph.nodes[i].inputs.iter().map(String::as_str));
                }
            }
        }
        let mut readers: HashMap<&str, usize> = HashMap::new();
        for (i, n) in graph.nodes.iter().enumerate() {
            if needed[i] {
                for x in &n.inputs {
                    *readers.entry(x.as_str()).or_default() += 1;
                }
            }
        }

        let mut vals: HashMap<String, Val> = HashMap::new();
        for t in graph.initializers {
            vals.insert(t.name.clone(), tensor_val(t));
        }
        let input_name = graph
            .inputs
            .iter()
            .find(|n| !vals.contains_key(*n))
            .ok_or_else(|| LoadError("the model has no input".into()))?;
        vals.insert(input_name.clone(), Val::Act { buf: 0, chw: input });

        let mut b = Builder {
            steps: Vec::new(),
            buffers: 1,
            algo,
        };
        let mut skip = vec![false; graph.nodes.len()];
        for (i, node) in graph.nodes.iter().enumerate() {
            if !needed[i] || skip[i] {
                continue;
            }
            let get = |k: usize| -> Result<&Val, LoadError> {
                let name = node
                    .inputs
                    .get(k)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| LoadError(format!("{} node lacks its input {k}", node.op)))?;
                vals.get(name).ok_or_else(|| {
                    LoadError(format!("{} reads `{name}` before it is made", node.op))
                })
            };
            let out = match node.op.as_str() {
                "Constant" => match node.attr("value").and_then(|a| a.t.clone()) {
                    Some(t) => tensor_val(t),
                    None => return err("a Constant without a tensor value"),
                },
                "Shape" => Val::Ints(match get(0)? {
                    Val::Act { chw, .. } => [1, chw[0], chw[1], chw[2]]
                        .iter()
                        .map(|&d| d as i64)
                        .collect(),
                    Val::Floats { dims, .. } => dims.iter().map(|&d| d as i64).collect(),
                    Val::Ints(v) => vec![v.len() as i64],
                }),
                "Gather" => {
                    let (data, idx) = (ints(get(0)?)?, ints(get(1)?)?);
                    let picked = idx
                        .iter()
                        .map(|&k| {
                            let k = if k < 0 { k + data.len() as i64 } else { k };
                            usize::try_from(k)
                                .ok()
                                .and_then(|k| data.get(k).copied())
                                .ok_or_else(|| LoadError("Gather index out of range".into()))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Val::Ints(picked)
                }
                "Unsqueeze" | "Cast" => match get(0)? {
                    Val::Ints(v) => Val::Ints(v.clone()),
                    _ => return err(format!("{} of floats is not supported", node.op)),
                },
                "Slice" => {
                    let data = ints(get(0)?)?;
                    let (s, e) = (ints(get(1)?)?, ints(get(2)?)?);
                    if s.len() != 1 || e.len() != 1 || node.inputs.len() > 4 {
                        return err("only one-axis Slices of integers are supported");
                    }
                    let clamp = |v: i64| {
                        let v = if v < 0 { v + data.len() as i64 } else { v };
                        v.clamp(0, data.len() as i64) as usize
                    };
                    let (s, e) = (clamp(s[0]), clamp(e[0]));
                    Val::Ints(data[s..e.max(s)].to_vec())
                }
                "Concat" => {
                    let all: Vec<&Val> =
                        (0..node.inputs.len()).map(get).collect::<Result<_, _>>()?;
                    if all.iter().all(|v| matches!(v, Val::Ints(_))) {
                        Val::Ints(
                            all.iter()
                                .flat_map(|v| ints(v).unwrap_or(&[]))
                                .copied()
                                .collect(),
                        )
                    } else {
                        b.concat(&all, node.int("axis"))?
                    }
                }
                "Conv" => {
                    let relu = match node.outputs.first().map(|o| readers.get(o.as_str())) {
                        Some(Some(1)) => {
                            graph.nodes.iter().enumerate().skip(i + 1).find(|(j, n)| {
                                needed[*j] && n.inputs.first() == node.outputs.first()
                            })
                        }
                        _ => None,
                    };
                    let relu = relu.filter(|(_, n)| n.op == "Relu");
                    let v = b.conv(
                        node,
                        get(0)?,
                        get(1)?,
                        node.inputs.get(2).map(|_| get(2)).transpose()?,
                        relu.is_some(),
                    )?;
                    if let Some((j, r)) = relu {
                        skip[j] = true;
                        vals.insert(r.outputs[0].clone(), v.clone());
                    }
                    v
                }
                "Relu" | "Sigmoid" => {
                    let (x, chw) = act(get(0)?)?;
                    let out = b.fresh();
                    b.steps.push(if node.op == "Relu" {
                        Step::Relu { x, out }
                    } else {
                        Step::Sigmoid { x, out }
                    });
                    Val::Act { buf: out, chw }
                }
                "Add" => {
                    let ((a, ca), (c, cb)) = (act(get(0)?)?, act(get(1)?)?);
                    if ca != cb {
                        return err(format!("Add of shapes {ca:?} and {cb:?} is not supported"));
                    }
                    let out = b.fresh();
                    b.steps.push(Step::Add { a, b: c, out });
                    Val::Act { buf: out, chw: ca }
                }
                "MaxPool" => {
                    let (x, [c, h, w]) = act(get(0)?)?;
                    let ok = node.ints("kernel_shape") == [2, 2]
                        && node.ints("strides") == [2, 2]
                        && node.ints("pads").iter().all(|&p| p == 0);
                    if !ok || node.int("ceil_mode") != Some(1) {
                        return err(
                            "only 2×2 max-pooling with stride 2 and ceil_mode is supported",
                        );
                    }
                    let out = b.fresh();
                    b.steps.push(Step::MaxPool { x, out, c, h, w });
                    Val::Act {
                        buf: out,
                        chw: [c, h.div_ceil(2), w.div_ceil(2)],
                    }
                }
                "Resize" => {
                    let (x, [c, h, w]) = act(get(0)?)?;
                    let mode = node.string("mode").unwrap_or("nearest");
                    let coords = node
                        .string("coordinate_transformation_mode")
                        .unwrap_or("half_pixel");
                    if mode != "linear" || !matches!(coords, "pytorch_half_pixel" | "half_pixel") {
                        return err(format!(
                            "Resize mode {mode} with {coords} coordinates is not supported"
                        ));
                    }
                    let sizes = ints(get(3)?)?;
                    let &[n, ch, th, tw] = sizes else {
                        return err("Resize needs four output sizes");
                    };
                    // A limit on what a (broken) file can make the engine allocate.
                    let too_big = th.saturating_mul(tw).saturating_mul(ch) > 1 << 28;
                    if n != 1 || ch != c as i64 || th < 1 || tw < 1 || too_big {
                        return err(format!("Resize to {sizes:?} is not supported"));
                    }
                    let (th, tw) = (th as usize, tw as usize);
                    let out = b.fresh();
                    b.steps.push(Step::Resize {
                        x,
                        out,
                        c,
                        from: (h, w),
                        to: (th, tw),
                    });
                    Val::Act {
                        buf: out,
                        chw: [c, th, tw],
                    }
                }
                op => {
                    return err(format!(
                        "the model uses the operator {op}, which Shotline's network does not run"
                    ))
                }
            };
            for o in &node.outputs {
                vals.insert(o.clone(), out.clone());
            }
        }
        let (out_buf, out_chw) = act(vals
            .get(&out_name)
            .ok_or_else(|| LoadError("the output is never computed".into()))?)?;

        // Free each buffer after its last reader (the input's is the caller's).
        let mut last = vec![None; b.buffers];
        for (i, s) in b.steps.iter().enumerate() {
            for r in s.reads() {
                last[r] = Some(i);
            }
        }
        let mut frees = vec![Vec::new(); b.steps.len()];
        for (buf, l) in last.iter().enumerate() {
            if let Some(i) = l {
                if buf != out_buf {
                    frees[*i].push(buf);
                }
            }
        }
        Ok(Net {
            steps: b.steps,
            frees,
            buffers: b.buffers,
            input,
            output: (out_buf, out_chw),
        })
    }

    /// The output's shape, C×H×W.
    pub fn output_shape(&self) -> [usize; 3] {
        self.output.1
    }

    /// Runs the network on a planar C×H×W input.
    pub fn run(&self, input: Vec<f32>) -> Vec<f32> {
        let [c, h, w] = self.input;
        assert_eq!(input.len(), c * h * w, "input of the wrong size");
        let mut bufs: Vec<Vec<f32>> = vec![Vec::new(); self.buffers];
        bufs[0] = input;
        for (step, frees) in self.steps.iter().zip(&self.frees) {
            let out = match step {
                Step::Conv(conv) => conv.run(&bufs[conv.x]),
                Step::MaxPool { x, c, h, w, .. } => ops::max_pool(&bufs[*x], *c, *h, *w),
                Step::Resize { x, c, from, to, .. } => ops::resize(&bufs[*x], *c, *from, *to),
                Step::Concat { xs, .. } => {
                    xs.iter().flat_map(|x| bufs[*x].iter().copied()).collect()
                }
                Step::Add { a, b, .. } => {
                    bufs[*a].iter().zip(&bufs[*b]).map(|(a, b)| a + b).collect()
                }
                Step::Relu { x, .. } => bufs[*x].iter().map(|&v| ops::relu(v)).collect(),
                Step::Sigmoid { x, .. } => {
                    bufs[*x].iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect()
                }
            };
            let dest = match step {
                Step::Conv(c) => c.out,
                Step::MaxPool { out, .. }
                | Step::Resize { out, .. }
                | Step::Concat { out, .. }
                | Step::Add { out, .. }
                | Step::Relu { out, .. }
                | Step::Sigmoid { out, .. } => *out,
            };
            bufs[dest] = out;
            for &f in frees {
                bufs[f] = Vec::new();
            }
        }
        std::mem::take(&mut bufs[self.output.0])
    }
}

struct Builder {
    steps: Vec<Step>,
    buffers: usize,
    algo: Algo,
}

impl Builder {
    fn fresh(&mut self) -> usize {
        self.buffers += 1;
        self.buffers - 1
    }

    fn concat(&mut self, all: &[&Val], axis: Option<i64>) -> Result<Val, LoadError> {
        if axis != Some(1) {
            return err("only channel concatenation of activations is supported");
        }
        let mut xs = Vec::new();
        let mut chw = [0, 0, 0];
        for v in all {
            let (x, [c, h, w]) = act(v)?;
            if xs.is_empty() {
                chw = [0, h, w];
            } else if [h, w] != [chw[1], chw[2]] {
                return err("Concat of activations of different sizes");
            }
            chw[0] += c;
            xs.push(x);
        }
        let out = self.fresh();
        self.steps.push(Step::Concat { xs, out });
        Ok(Val::Act { buf: out, chw })
    }

    fn conv(
        &mut self,
        node: &proto::Node,
        x: &Val,
        w: &Val,
        bias: Option<&Val>,
        relu: bool,
    ) -> Result<Val, LoadError> {
        let (x, [c, h, wd]) = act(x)?;
        let Val::Floats { dims, data } = w else {
            return err("Conv weights must be constants");
        };
        let &[co, ci, kh, kw] = dims.as_slice() else {
            return err("Conv weights must be 4-D");
        };
        let dil = node.ints("dilations").first().copied().unwrap_or(1);
        let pads = node.ints("pads");
        let k = kh;
        let same = (dil * (k as i64 - 1)) / 2;
        let ok = kh == kw
            && (k == 1 || k == 3)
            && ci == c
            && node.int("group").unwrap_or(1) == 1
            && node.ints("strides").iter().all(|&s| s == 1)
            && node.ints("dilations").iter().all(|&d| d == dil)
            && (1..=64).contains(&dil)
            && pads.iter().all(|&p| p == same);
        if !ok {
            return err(format!(
                "Conv {dims:?} with dilation {:?} and pads {pads:?} is not supported",
                node.ints("dilations")
            ));
        }
        let bias = match bias {
            Some(Val::Floats { data, .. }) if data.len() == co => data.clone(),
            Some(_) => return err("Conv bias must be a constant per output channel"),
            None => vec![0.0; co],
        };
        let out = self.fresh();
        self.steps.push(Step::Conv(ops::Conv::new(
            x,
            out,
            [c, h, wd],
            co,
            k,
            dil as usize,
            data,
            bias,
            relu,
            self.algo,
        )));
        Ok(Val::Act {
            buf: out,
            chw: [co, h, wd],
        })
    }
}

fn tensor_val(t: proto::Tensor) -> Val {
    match t.data {
        proto::Data::Ints(v) => Val::Ints(v),
        proto::Data::Floats(data) => Val::Floats { dims: t.dims, data },
    }
}

fn ints(v: &Val) -> Result<&[i64], LoadError> {
    match v {
        Val::Ints(v) => Ok(v),
        _ => err("expected integers (a shape computation)"),
    }
}

fn act(v: &Val) -> Result<(usize, [usize; 3]), LoadError> {
    match v {
        Val::Act { buf, chw } => Ok((*buf, *chw)),
        _ => err("expected an activation, found a constant"),
    }
}
