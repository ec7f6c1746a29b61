//! Transformer workloads from published model configs: a Hugging Face style `config.json`
//! ([`ModelConfig`], read by [`parse_config`]) becomes a workload in plumsim's JSON format
//! ([`transformer_workload`], written by [`Workload::to_json`]), one layer per module of the
//! Hugging Face implementation, named as its module is (`encoder.layer.0.attention.self.query`,
//! `model.layers.0.mlp.down_proj`). Pure: no file access.
//!
//! Families, by `model_type`:
//!
//! * `bert` (post-LN encoder, `BertModel`): word, position and token-type `embedding`s added,
//!   `LayerNorm`; per layer `query`/`key`/`value`, attention, `attention.output.dense`, add,
//!   `LayerNorm`, `intermediate.dense` with the activation, `output.dense`, add, `LayerNorm`.
//!   No pooler and no task head. Prefill only (an encoder has no decode step).
//! * `vit` (`ViTForImageClassification`): the patch embedding as a `conv2d` with kernel =
//!   stride = `patch_size` on the `[num_channels, image_size, image_size]` image, flattened to
//!   `[patches, hidden]`, the `cls_token` (a network input `[1, hidden]`) prepended, the
//!   position embedding (a network input `[patches + 1, hidden]`) added; pre-LN blocks
//!   (`layernorm_before`, attention, `attention.output.dense`, add, `layernorm_after`,
//!   `intermediate.dense` with the activation, `output.dense`, add); the final `layernorm`, the
//!   CLS token sliced out and the `classifier` (`num_labels` outputs). No phase (an image, not a
//!   token sequence): the workload has no `sequence`.
//! * `llama` (pre-RMSNorm decoder, `LlamaForCausalLM`): `embed_tokens`; per layer
//!   `input_layernorm`, `q_proj`/`k_proj`/`v_proj`, RoPE on queries and keys, grouped-query
//!   attention (`num_key_value_heads`), `o_proj`, add, `post_attention_layernorm`, the gated MLP
//!   (`act(gate_proj) * up_proj`, then `down_proj`), add; the final `norm` and `lm_head`.
//! * `bitnet` (BitNet b1.58, `BitNetForCausalLM`): as `llama`, plus the two sub-norms of its
//!   modeling code: `self_attn.attn_sub_norm` (RMSNorm over the attention output, before
//!   `o_proj`) and `mlp.ffn_sub_norm` (RMSNorm over `act(gate) * up`, before `down_proj`). Its
//!   LM head (the embedding table when `tie_word_embeddings`) stays 8-bit in BitNet, so
//!   `lm_head` names `{"scheme": "int", "weight_bits": 8}` itself: a ternary design's native
//!   scheme does not replace it.
//!
//! The FFN activation is `hidden_act` (`gelu`, `gelu_new`, `gelu_pytorch_tanh` -> `gelu`;
//! `silu`, `swish` -> `silu`; `relu2`; `relu`), defaulting as Hugging Face does per family.
//!
//! Layouts: a projection is a weight `matmul` over `[tokens, features]`; heads are split by a
//! `reshape` to `[tokens, heads, head_dim]` and a `transpose` to `[heads, tokens, head_dim]`;
//! scores are `matmul(q, k, transpose_b)` (`[heads, tokens, keys]`), then `softmax`, then
//! `matmul(p, v)`, transposed back and reshaped to `[tokens, heads * head_dim]`. Decode (one
//! new token per sequence) reads each layer's key and value caches as network inputs
//! `model.layers.N.self_attn.k_cache` / `v_cache`, `[num_key_value_heads, context, head_dim]`
//! (keys cached after RoPE), and appends the new entry with a `concat` along the token axis,
//! so the new token attends over `context + 1` positions. Every tensor is named after the layer
//! that produces it.
//!
//! What is and is not modelled:
//!
//! * attention's `1 / sqrt(head_dim)` is folded into the query projection's output scale: no
//!   layer, no cost;
//! * masks are not layers: BERT's padding mask and the decoders' causal mask add nothing, and
//!   the causal mask is not exploited (a prefill computes all `seq_len x seq_len` scores);
//! * prefill of a decoder runs the LM head on the last token only (`model.norm.last_token`, a
//!   `slice`): what generating the next token needs;
//! * tied embeddings: `lm_head` is its own weight layer either way (its MACs and weight traffic
//!   count); the embedding table is read row by row from DRAM;
//! * every weight layer takes the workload default (synthetic Laplace weights, int8 weights,
//!   8-bit activations), so an architecture's native scheme replaces it, as for the CNNs;
//! * biases, norm epsilons, dropout and RoPE's frequencies do not change any cost and are not
//!   read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::raw::OpKind;
use super::MAX_DIM;
use crate::error::{Error, Problem, Result};

/// The model families [`transformer_workload`] builds, by `model_type`.
pub const MODEL_TYPES: [&str; 4] = ["bert", "vit", "llama", "bitnet"];

/// The most hidden layers a config may state: 1,024 (published models have a few hundred at
/// most; each becomes some 25 workload layers).
pub const MAX_HIDDEN_LAYERS: u64 = 1024;

/// A Hugging Face style `config.json`: the fields plumsim reads. Every other key is ignored
/// (published configs carry many: token ids, dropout, dtypes, `id2label` names...). What a
/// family requires is checked by [`transformer_workload`], naming the field.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ModelConfig {
    /// `bert`, `vit`, `llama` or `bitnet`.
    pub model_type: Option<String>,
    /// Width of the residual stream (features per token).
    pub hidden_size: Option<i64>,
    pub num_attention_heads: Option<i64>,
    /// Key/value heads (grouped-query attention); default `num_attention_heads`. Decoders only.
    pub num_key_value_heads: Option<i64>,
    /// Features per head; default `hidden_size / num_attention_heads`. Decoders only (BERT
    /// and ViT always split `hidden_size` evenly).
    pub head_dim: Option<i64>,
    /// Width of the FFN's hidden layer.
    pub intermediate_size: Option<i64>,
    pub num_hidden_layers: Option<i64>,
    /// Rows of the token embedding table (and outputs of a decoder's LM head).
    pub vocab_size: Option<i64>,
    /// The FFN activation (default per family: `gelu` for bert and vit, `silu` for llama,
    /// `relu2` for bitnet).
    pub hidden_act: Option<String>,
    /// The position limit: bounds `seq_len` and `context + 1` (text models).
    pub max_position_embeddings: Option<i64>,
    /// BERT's token-type (segment) vocabulary; default 2.
    pub type_vocab_size: Option<i64>,
    /// Not read: a norm's epsilon changes no cost.
    pub layer_norm_eps: Option<f64>,
    /// Not read: a norm's epsilon changes no cost.
    pub rms_norm_eps: Option<f64>,
    /// Whether the LM head shares the embedding table; `lm_head` costs its MACs either way.
    pub tie_word_embeddings: Option<bool>,
    /// ViT: the input image's side (or `[height, width]`), pixels.
    pub image_size: Option<Size>,
    /// ViT: the patch's side (or `[height, width]`), pixels.
    pub patch_size: Option<Size>,
    /// ViT: image channels; default 3.
    pub num_channels: Option<i64>,
    /// ViT: classifier outputs; or the number of entries of `id2label`.
    pub num_labels: Option<i64>,
    pub id2label: Option<BTreeMap<String, serde_json::Value>>,
}

/// A side in pixels, or `[height, width]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Size {
    One(i64),
    Two([i64; 2]),
}

/// What one inference of a text model processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `seq_len` prompt tokens per sequence, all at once.
    Prefill { seq_len: u64 },
    /// One new token per sequence over a KV cache of `context` tokens.
    Decode { context: u64 },
}

/// Parse a `config.json`; `origin` names the file in messages.
pub fn parse_config(text: &str, origin: &str) -> Result<ModelConfig> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        Error::Parse {
            origin: origin.to_string(),
            line: Some(e.line()),
            column: Some(e.column()),
            message,
        }
    })
}

/// The workload's default name: `<stem>_prefill_s<seq_len>` or `<stem>_decode_ctx<context>`
/// (`<stem>` alone for an image model), then `_b<batch>` when the batch is above 1.
pub fn default_name(stem: &str, phase: Option<Phase>, batch: u64) -> String {
    let mut name = match phase {
        Some(Phase::Prefill { seq_len }) => format!("{stem}_prefill_s{seq_len}"),
        Some(Phase::Decode { context }) => format!("{stem}_decode_ctx{context}"),
        None => stem.to_string(),
    };
    if batch > 1 {
        name.push_str(&format!("_b{batch}"));
    }
    name
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Bert,
    Vit,
    Llama,
    Bitnet,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Bert => "bert",
            Family::Vit => "vit",
            Family::Llama => "llama",
            Family::Bitnet => "bitnet",
        }
    }

    fn is_decoder(self) -> bool {
        matches!(self, Family::Llama | Family::Bitnet)
    }
}

/// A config checked for its family: every count in range, the heads dividing as they must.
#[derive(Debug, Clone, Copy)]
struct Model {
    family: Family,
    hidden: u64,
    heads: u64,
    kv_heads: u64,
    head_dim: u64,
    ffn: u64,
    layers: u64,
    act: OpKind,
    /// Text models.
    vocab: u64,
    max_positions: u64,
    /// BERT.
    type_vocab: u64,
    /// ViT.
    image: (u64, u64),
    patch: (u64, u64),
    channels: u64,
    labels: u64,
}

/// A count field: 1 to `max`, its default when absent, or a problem and `None`.
fn count(
    p: &mut Vec<Problem>,
    field: &str,
    value: Option<i64>,
    default: Option<u64>,
    max: u64,
    family: &str,
) -> Option<u64> {
    match (value, default) {
        (Some(v), _) if v >= 1 && v as u64 <= max => Some(v as u64),
        (Some(v), _) => {
            p.push(
                Problem::new(field, format!("{v} is out of range"))
                    .with_help(format!("allowed: 1 to {max}")),
            );
            None
        }
        (None, Some(d)) => Some(d),
        (None, None) => {
            p.push(
                Problem::new(field, format!("is required for model_type `{family}`"))
                    .with_help("state it as the model's published config.json does"),
            );
            None
        }
    }
}

fn size(
    p: &mut Vec<Problem>,
    field: &str,
    value: Option<Size>,
    family: &str,
) -> Option<(u64, u64)> {
    let (h, w) = match value {
        Some(Size::One(v)) => (Some(v), Some(v)),
        Some(Size::Two([h, w])) => (Some(h), Some(w)),
        None => (None, None),
    };
    let h = count(p, field, h, None, MAX_DIM, family)?;
    let w = count(p, field, w, None, MAX_DIM, family)?;
    Some((h, w))
}

fn activation(p: &mut Vec<Problem>, act: Option<&str>, family: Family) -> Option<OpKind> {
    let default = match family {
        Family::Bert | Family::Vit => "gelu",
        Family::Llama => "silu",
        Family::Bitnet => "relu2",
    };
    match act.unwrap_or(default) {
        "gelu" | "gelu_new" | "gelu_pytorch_tanh" => Some(OpKind::Gelu),
        "silu" | "swish" => Some(OpKind::Silu),
        "relu2" => Some(OpKind::Relu2),
        "relu" => Some(OpKind::Relu),
        other => {
            p.push(
                Problem::new("hidden_act", format!("`{other}` is not modelled")).with_help(
                    "allowed: gelu, gelu_new, gelu_pytorch_tanh, silu, swish, relu2, relu",
                ),
            );
            None
        }
    }
}

/// Check `c` for its family, every problem at once.
fn resolve(c: &ModelConfig, origin: &str) -> Result<Model> {
    let mut p = Vec::new();
    let family = match c.model_type.as_deref() {
        Some("bert") => Family::Bert,
        Some("vit") => Family::Vit,
        Some("llama") => Family::Llama,
        Some("bitnet") => Family::Bitnet,
        other => {
            p.push(
                Problem::new(
                    "model_type",
                    match other {
                        None => "is required".to_string(),
                        Some(t) => format!("`{t}` is not a family plumsim generates"),
                    },
                )
                .with_help(format!("one of {}", MODEL_TYPES.join(", "))),
            );
            return Err(Error::invalid(origin, p));
        }
    };
    let f = family.name();
    let p = &mut p;
    let hidden = count(p, "hidden_size", c.hidden_size, None, MAX_DIM, f);
    let heads = count(
        p,
        "num_attention_heads",
        c.num_attention_heads,
        None,
        MAX_DIM,
        f,
    );
    let ffn = count(
        p,
        "intermediate_size",
        c.intermediate_size,
        None,
        MAX_DIM,
        f,
    );
    let layers = count(
        p,
        "num_hidden_layers",
        c.num_hidden_layers,
        None,
        MAX_HIDDEN_LAYERS,
        f,
    );
    let act = activation(p, c.hidden_act.as_deref(), family);
    let text = family != Family::Vit;
    let (vocab, max_positions) = if text {
        (
            count(p, "vocab_size", c.vocab_size, None, MAX_DIM, f),
            count(
                p,
                "max_position_embeddings",
                c.max_position_embeddings,
                None,
                MAX_DIM,
                f,
            ),
        )
    } else {
        (Some(1), Some(1))
    };
    let type_vocab = if family == Family::Bert {
        count(p, "type_vocab_size", c.type_vocab_size, Some(2), MAX_DIM, f)
    } else {
        Some(1)
    };
    let (image, patch, channels, labels) = if family == Family::Vit {
        let image = size(p, "image_size", c.image_size, f);
        let patch = size(p, "patch_size", c.patch_size, f);
        if let (Some(i), Some(q)) = (image, patch) {
            if q.0 > i.0 || q.1 > i.1 {
                p.push(
                    Problem::new(
                        "patch_size",
                        format!("{q:?} is larger than image_size {i:?}"),
                    )
                    .with_help("a patch is at most the image"),
                );
            }
        }
        let channels = count(p, "num_channels", c.num_channels, Some(3), MAX_DIM, f);
        let named = c.id2label.as_ref().map(|m| m.len() as u64);
        let labels = match (c.num_labels, named) {
            (Some(n), Some(m)) if n >= 0 && n as u64 != m => {
                p.push(
                    Problem::new(
                        "num_labels",
                        format!("{n} differs from the {m} entries of id2label"),
                    )
                    .with_help("give one of them, or make them agree"),
                );
                None
            }
            (None, Some(m)) if m >= 1 => Some(m),
            (n, _) => count(p, "num_labels", n, None, MAX_DIM, f),
        };
        (image, patch, channels, labels)
    } else {
        (Some((1, 1)), Some((1, 1)), Some(1), Some(1))
    };
    // BERT and ViT split the hidden size evenly; the decoders read head_dim and the
    // key/value heads.
    let (kv_heads, head_dim) = if family.is_decoder() {
        // Without a valid head count (already reported) the default is unknown.
        let kv = match (c.num_key_value_heads, heads) {
            (None, None) => None,
            (v, n) => count(p, "num_key_value_heads", v, n, MAX_DIM, f),
        };
        let dim = match (c.head_dim, hidden, heads) {
            (Some(d), _, _) => count(p, "head_dim", Some(d), None, MAX_DIM, f),
            (None, Some(h), Some(n)) => even_split(p, h, n),
            _ => None,
        };
        (kv, dim)
    } else {
        let dim = match (hidden, heads) {
            (Some(h), Some(n)) => even_split(p, h, n),
            _ => None,
        };
        (heads, dim)
    };
    if let (Some(n), Some(kv)) = (heads, kv_heads) {
        if n % kv != 0 {
            p.push(
                Problem::new(
                    "num_key_value_heads",
                    format!("{kv} does not divide num_attention_heads = {n}"),
                )
                .with_help("grouped-query attention shares each key/value head among num_attention_heads / num_key_value_heads query heads"),
            );
        }
    }
    if let (Some(n), Some(d)) = (heads, head_dim) {
        if n.saturating_mul(d) > MAX_DIM {
            p.push(
                Problem::new(
                    "head_dim",
                    format!("{n} heads x {d} features exceed {MAX_DIM} (2^24)"),
                )
                .with_help("the query projection's width is at most 2^24"),
            );
        }
        if family.is_decoder() && d % 2 == 1 {
            p.push(
                Problem::new("head_dim", format!("{d} is odd"))
                    .with_help("RoPE rotates pairs of a head's features: head_dim must be even"),
            );
        }
    }
    let (
        Some(hidden),
        Some(heads),
        Some(kv_heads),
        Some(head_dim),
        Some(ffn),
        Some(layers),
        Some(act),
        Some(vocab),
        Some(max_positions),
        Some(type_vocab),
        Some(image),
        Some(patch),
        Some(channels),
        Some(labels),
    ) = (
        hidden,
        heads,
        kv_heads,
        head_dim,
        ffn,
        layers,
        act,
        vocab,
        max_positions,
        type_vocab,
        image,
        patch,
        channels,
        labels,
    )
    else {
        return Err(Error::invalid(origin, std::mem::take(p)));
    };
    if !p.is_empty() {
        return Err(Error::invalid(origin, std::mem::take(p)));
    }
    Ok(Model {
        family,
        hidden,
        heads,
        kv_heads,
        head_dim,
        ffn,
        layers,
        act,
        vocab,
        max_positions,
        type_vocab,
        image,
        patch,
        channels,
        labels,
    })
}

/// `hidden / heads` when the heads divide it, else a problem.
fn even_split(p: &mut Vec<Problem>, hidden: u64, heads: u64) -> Option<u64> {
    if hidden % heads != 0 {
        p.push(
            Problem::new(
                "num_attention_heads",
                format!("{heads} does not divide hidden_size = {hidden}"),
            )
            .with_help("each head takes hidden_size / num_attention_heads features (decoders may state head_dim instead)"),
        );
        return None;
    }
    Some(hidden / heads)
}

/// A generated workload: plumsim's JSON format, written by [`Workload::to_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub name: String,
    pub batch: u64,
    pub sequence: Option<SequenceOut>,
    pub defaults: DefaultsOut,
    /// Network inputs and their per-sample shapes, in the order the layers first read them.
    pub inputs: Vec<(String, Vec<u64>)>,
    pub layers: Vec<LayerOut>,
}

/// The workload's `sequence`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequenceOut {
    pub phase: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq_len: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<u64>,
    pub max_context: u64,
}

/// The workload's `defaults`: int8 weights, 8-bit activations, synthetic Laplace weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultsOut {
    pub quant: QuantOut,
    pub weights: WeightsOut,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuantOut {
    pub scheme: &'static str,
    pub weight_bits: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_bits: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightsOut {
    pub synthetic: SyntheticOut,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyntheticOut {
    pub distribution: &'static str,
    pub seed: u64,
}

/// One layer as written; the fields an op does not read are left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerOut {
    pub name: String,
    pub op: &'static str,
    pub inputs: Vec<String>,
    pub output: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_features: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_channels: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<PairOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stride: Option<PairOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transpose_b: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub axis: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perm: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_embeddings: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_dim: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quant: Option<QuantOut>,
}

/// A kernel or stride as written: one number when square, else `[h, w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PairOut {
    One(u64),
    Two([u64; 2]),
}

impl PairOut {
    fn of((h, w): (u64, u64)) -> Self {
        if h == w {
            PairOut::One(h)
        } else {
            PairOut::Two([h, w])
        }
    }
}

impl LayerOut {
    fn new(name: &str, op: OpKind, inputs: &[&str]) -> Self {
        LayerOut {
            name: name.to_string(),
            op: op.as_str(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            output: name.to_string(),
            out_features: None,
            out_channels: None,
            kernel: None,
            stride: None,
            transpose_b: None,
            axis: None,
            start: None,
            end: None,
            shape: None,
            perm: None,
            num_embeddings: None,
            embedding_dim: None,
            quant: None,
        }
    }
}

/// JSON with a space after every `:` and `,`, on one line.
struct Spaced;

impl serde_json::ser::Formatter for Spaced {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// A workload's JSON as plumsim writes it: the name and batch, the other top-level fields
/// (`head`, each already JSON), then one network input and one layer (each already JSON) per
/// line, in order.
pub(crate) fn workload_json(
    name: &str,
    batch: u64,
    head: &[(&str, String)],
    inputs: &[(String, Vec<u64>)],
    layers: &[String],
) -> Result<String> {
    let mut s = format!("{{\"name\": {}, \"batch\": {batch},\n", one_line(&name)?);
    for (k, v) in head {
        s.push_str(&format!(" {}: {v},\n", one_line(k)?));
    }
    s.push_str(" \"inputs\": {\n");
    let inputs: Vec<String> = inputs
        .iter()
        .map(|(k, v)| Ok(format!("  {}: {}", one_line(k)?, one_line(v)?)))
        .collect::<Result<_>>()?;
    s.push_str(&inputs.join(",\n"));
    s.push_str("\n },\n \"layers\": [\n");
    let layers: Vec<String> = layers.iter().map(|l| format!("  {l}")).collect();
    s.push_str(&layers.join(",\n"));
    s.push_str("\n ]}\n");
    Ok(s)
}

/// `v` as JSON on one line, a space after every `:` and `,`.
pub(crate) fn one_line<T: Serialize>(v: &T) -> Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
    v.serialize(&mut ser)
        .map_err(|e| Error::Internal(format!("writing a workload: {e}")))?;
    String::from_utf8(out).map_err(|e| Error::Internal(format!("writing a workload: {e}")))
}

impl Workload {
    /// The workload JSON: the top-level fields first, then one network input and one layer per
    /// line, in network order.
    pub fn to_json(&self) -> Result<String> {
        let mut head = Vec::new();
        if let Some(q) = &self.sequence {
            head.push(("sequence", one_line(q)?));
        }
        head.push(("defaults", one_line(&self.defaults)?));
        let layers: Vec<String> = self.layers.iter().map(one_line).collect::<Result<_>>()?;
        workload_json(&self.name, self.batch, &head, &self.inputs, &layers)
    }
}

/// The layers being written, and the network inputs they read.
#[derive(Default)]
struct Graph {
    inputs: Vec<(String, Vec<u64>)>,
    layers: Vec<LayerOut>,
}

impl Graph {
    fn input(&mut self, name: &str, shape: Vec<u64>) -> String {
        self.inputs.push((name.to_string(), shape));
        name.to_string()
    }

    fn push(&mut self, l: LayerOut) -> String {
        let name = l.name.clone();
        self.layers.push(l);
        name
    }

    fn unary(&mut self, name: &str, op: OpKind, x: &str) -> String {
        self.push(LayerOut::new(name, op, &[x]))
    }

    fn binary(&mut self, name: &str, op: OpKind, a: &str, b: &str) -> String {
        self.push(LayerOut::new(name, op, &[a, b]))
    }

    /// A token-wise projection `[M, K] -> [M, n]`, weights `[n, K]`.
    fn linear(&mut self, name: &str, x: &str, n: u64) -> String {
        self.push(LayerOut {
            out_features: Some(n),
            ..LayerOut::new(name, OpKind::Matmul, &[x])
        })
    }

    fn act_matmul(&mut self, name: &str, a: &str, b: &str, transpose_b: bool) -> String {
        self.push(LayerOut {
            transpose_b: transpose_b.then_some(true),
            ..LayerOut::new(name, OpKind::Matmul, &[a, b])
        })
    }

    fn reshape(&mut self, name: &str, x: &str, shape: Vec<u64>) -> String {
        self.push(LayerOut {
            shape: Some(shape),
            ..LayerOut::new(name, OpKind::Reshape, &[x])
        })
    }

    fn transpose(&mut self, name: &str, x: &str, perm: Vec<u64>) -> String {
        self.push(LayerOut {
            perm: Some(perm),
            ..LayerOut::new(name, OpKind::Transpose, &[x])
        })
    }

    fn concat(&mut self, name: &str, xs: &[&str], axis: i64) -> String {
        self.push(LayerOut {
            axis: Some(axis),
            ..LayerOut::new(name, OpKind::Concat, xs)
        })
    }

    fn slice(&mut self, name: &str, x: &str, start: i64, end: Option<i64>) -> String {
        self.push(LayerOut {
            axis: Some(0),
            start: Some(start),
            end,
            ..LayerOut::new(name, OpKind::Slice, &[x])
        })
    }

    fn embedding(&mut self, name: &str, ids: &str, vocab: u64, dim: u64) -> String {
        self.push(LayerOut {
            num_embeddings: Some(vocab),
            embedding_dim: Some(dim),
            ..LayerOut::new(name, OpKind::Embedding, &[ids])
        })
    }

    /// `[tokens, heads * dim]` -> `[heads, tokens, dim]` after projection `proj`.
    fn split_heads(&mut self, proj: &str, tokens: u64, heads: u64, dim: u64) -> String {
        let split = self.reshape(&format!("{proj}.split"), proj, vec![tokens, heads, dim]);
        self.transpose(&format!("{proj}.heads"), &split, vec![1, 0, 2])
    }
}

/// How one attention block is written.
struct Attention<'a> {
    /// Module prefix of the scores, softmax and context layers.
    base: &'a str,
    /// Names of the query, key and value projections.
    proj: [String; 3],
    /// RoPE on queries and keys.
    rope: bool,
    /// Decode: the key and value caches to append the new entry to.
    cache: Option<(String, String)>,
}

/// Projections, heads, scores, softmax and context of one attention block over `x`
/// (`tokens` new tokens); returns the context as `[tokens, heads * head_dim]`.
fn attention(g: &mut Graph, m: &Model, a: &Attention, x: &str, tokens: u64) -> String {
    let base = a.base;
    let (h, kv, d) = (m.heads, m.kv_heads, m.head_dim);
    let q = g.linear(&a.proj[0], x, h * d);
    let mut q = g.split_heads(&q, tokens, h, d);
    let k = g.linear(&a.proj[1], x, kv * d);
    let mut k = g.split_heads(&k, tokens, kv, d);
    if a.rope {
        q = g.unary(&format!("{base}.q_rope"), OpKind::Rope, &q);
        k = g.unary(&format!("{base}.k_rope"), OpKind::Rope, &k);
    }
    let v = g.linear(&a.proj[2], x, kv * d);
    let mut v = g.split_heads(&v, tokens, kv, d);
    if let Some((k_cache, v_cache)) = &a.cache {
        k = g.concat(&format!("{base}.k_append"), &[k_cache, &k], 1);
        v = g.concat(&format!("{base}.v_append"), &[v_cache, &v], 1);
    }
    let scores = g.act_matmul(&format!("{base}.scores"), &q, &k, true);
    let probs = g.unary(&format!("{base}.softmax"), OpKind::Softmax, &scores);
    let ctx = g.act_matmul(&format!("{base}.context"), &probs, &v, false);
    let ctx = g.transpose(&format!("{base}.context.merge"), &ctx, vec![1, 0, 2]);
    g.reshape(&format!("{base}.context.flat"), &ctx, vec![tokens, h * d])
}

/// The workload of `config` for `phase` (text models; `None` for ViT) at `batch` sequences or
/// images per inference, called `name` (see [`default_name`]). `origin` names the config in
/// messages. Every problem of the config and the phase is reported at once, naming the field.
pub fn transformer_workload(
    config: &ModelConfig,
    phase: Option<Phase>,
    batch: u64,
    name: &str,
    origin: &str,
) -> Result<Workload> {
    let m = resolve(config, origin)?;
    let mut p = Vec::new();
    if name.trim().is_empty() {
        p.push(Problem::new("name", "must not be empty"));
    }
    if !(1..=1 << 20).contains(&batch) {
        p.push(
            Problem::new("batch", format!("{batch} is out of range"))
                .with_help("allowed: 1 to 1048576"),
        );
    }
    let f = m.family.name();
    let max = m.max_positions;
    match (m.family, phase) {
        (Family::Vit, Some(_)) => p.push(
            Problem::new(
                "phase",
                "model_type `vit` takes an image, not a token sequence",
            )
            .with_help("give no prefill or decode phase for an image model"),
        ),
        (Family::Vit, None) => {}
        (_, None) => p.push(
            Problem::new("phase", format!("is required for model_type `{f}`")).with_help(
                "a prefill of SEQ_LEN tokens, or a decode step over CONTEXT cached tokens",
            ),
        ),
        (Family::Bert, Some(Phase::Decode { .. })) => p.push(
            Problem::new(
                "phase",
                "model_type `bert` is an encoder: it has no decode step",
            )
            .with_help("an encoder processes its whole sequence at once: give a prefill"),
        ),
        (_, Some(Phase::Prefill { seq_len })) => {
            if seq_len < 1 || seq_len > max {
                p.push(
                    Problem::new(
                        "seq_len",
                        format!(
                            "{seq_len} tokens is out of range for max_position_embeddings = {max}"
                        ),
                    )
                    .with_help(format!("allowed: 1 to {max} (the model's position limit)")),
                );
            }
        }
        (_, Some(Phase::Decode { context })) => {
            if context >= max {
                p.push(
                    Problem::new(
                        "context",
                        format!("{context} cached tokens + 1 new token exceed max_position_embeddings = {max}"),
                    )
                    .with_help(format!("allowed: 0 to {} cached tokens (the model's position limit less the new token)", max - 1)),
                );
            }
        }
    }
    if !p.is_empty() {
        return Err(Error::invalid(origin, p));
    }
    let mut g = Graph::default();
    let sequence = match phase {
        Some(Phase::Prefill { seq_len }) => Some(SequenceOut {
            phase: "prefill",
            seq_len: Some(seq_len),
            context: None,
            max_context: max,
        }),
        Some(Phase::Decode { context }) => Some(SequenceOut {
            phase: "decode",
            seq_len: None,
            context: Some(context),
            max_context: max,
        }),
        None => None,
    };
    match (m.family, phase) {
        (Family::Bert, Some(Phase::Prefill { seq_len })) => bert(&mut g, &m, seq_len),
        (Family::Vit, _) => vit(&mut g, &m),
        (_, Some(phase)) => decoder(&mut g, &m, phase),
        (_, None) => unreachable!("checked above: text models have a phase"),
    }
    Ok(Workload {
        name: name.to_string(),
        batch,
        sequence,
        defaults: DefaultsOut {
            quant: QuantOut {
                scheme: "int",
                weight_bits: 8,
                activation_bits: Some(8),
            },
            weights: WeightsOut {
                synthetic: SyntheticOut {
                    distribution: "laplace",
                    seed: 1,
                },
            },
        },
        inputs: g.inputs,
        layers: g.layers,
    })
}

fn bert(g: &mut Graph, m: &Model, s: u64) {
    let d = m.hidden;
    let ids = g.input("input_ids", vec![s]);
    let types = g.input("token_type_ids", vec![s]);
    let positions = g.input("position_ids", vec![s]);
    let words = g.embedding("embeddings.word_embeddings", &ids, m.vocab, d);
    let types = g.embedding("embeddings.token_type_embeddings", &types, m.type_vocab, d);
    let positions = g.embedding(
        "embeddings.position_embeddings",
        &positions,
        m.max_positions,
        d,
    );
    let x = g.binary("embeddings.add_token_type", OpKind::Add, &words, &types);
    let x = g.binary("embeddings.add_position", OpKind::Add, &x, &positions);
    let mut x = g.unary("embeddings.LayerNorm", OpKind::LayerNorm, &x);
    for i in 0..m.layers {
        let l = format!("encoder.layer.{i}");
        let base = format!("{l}.attention.self");
        let a = Attention {
            base: &base,
            proj: ["query", "key", "value"].map(|p| format!("{base}.{p}")),
            rope: false,
            cache: None,
        };
        let ctx = attention(g, m, &a, &x, s);
        let o = g.linear(&format!("{l}.attention.output.dense"), &ctx, d);
        let o = g.binary(&format!("{l}.attention.output.add"), OpKind::Add, &o, &x);
        let o = g.unary(
            &format!("{l}.attention.output.LayerNorm"),
            OpKind::LayerNorm,
            &o,
        );
        let h = g.linear(&format!("{l}.intermediate.dense"), &o, m.ffn);
        let h = g.unary(&format!("{l}.intermediate.act"), m.act, &h);
        let y = g.linear(&format!("{l}.output.dense"), &h, d);
        let y = g.binary(&format!("{l}.output.add"), OpKind::Add, &y, &o);
        x = g.unary(&format!("{l}.output.LayerNorm"), OpKind::LayerNorm, &y);
    }
}

fn vit(g: &mut Graph, m: &Model) {
    let d = m.hidden;
    let (oh, ow) = (m.image.0 / m.patch.0, m.image.1 / m.patch.1);
    let patches = oh * ow;
    let s = patches + 1;
    let pixels = g.input("pixel_values", vec![m.channels, m.image.0, m.image.1]);
    let e = "vit.embeddings";
    let proj = g.push(LayerOut {
        out_channels: Some(d),
        kernel: Some(PairOut::of(m.patch)),
        stride: Some(PairOut::of(m.patch)),
        ..LayerOut::new(
            &format!("{e}.patch_embeddings.projection"),
            OpKind::Conv2d,
            &[&pixels],
        )
    });
    let flat = g.reshape(
        &format!("{e}.patch_embeddings.flatten"),
        &proj,
        vec![d, patches],
    );
    let tokens = g.transpose(
        &format!("{e}.patch_embeddings.transpose"),
        &flat,
        vec![1, 0],
    );
    let cls = g.input(&format!("{e}.cls_token"), vec![1, d]);
    let x = g.concat(&format!("{e}.concat"), &[&cls, &tokens], 0);
    let pos = g.input(&format!("{e}.position_embeddings"), vec![s, d]);
    let mut x = g.binary(&format!("{e}.add"), OpKind::Add, &x, &pos);
    for i in 0..m.layers {
        let l = format!("vit.encoder.layer.{i}");
        let n = g.unary(&format!("{l}.layernorm_before"), OpKind::LayerNorm, &x);
        let base = format!("{l}.attention.attention");
        let a = Attention {
            base: &base,
            proj: ["query", "key", "value"].map(|p| format!("{base}.{p}")),
            rope: false,
            cache: None,
        };
        let ctx = attention(g, m, &a, &n, s);
        let o = g.linear(&format!("{l}.attention.output.dense"), &ctx, d);
        let h = g.binary(&format!("{l}.attn_residual"), OpKind::Add, &o, &x);
        let n = g.unary(&format!("{l}.layernorm_after"), OpKind::LayerNorm, &h);
        let f = g.linear(&format!("{l}.intermediate.dense"), &n, m.ffn);
        let f = g.unary(&format!("{l}.intermediate.act"), m.act, &f);
        let y = g.linear(&format!("{l}.output.dense"), &f, d);
        x = g.binary(&format!("{l}.output.add"), OpKind::Add, &y, &h);
    }
    let x = g.unary("vit.layernorm", OpKind::LayerNorm, &x);
    let cls = g.slice("vit.cls_token_output", &x, 0, Some(1));
    g.linear("classifier", &cls, m.labels);
}

fn decoder(g: &mut Graph, m: &Model, phase: Phase) {
    let d = m.hidden;
    let (s, context) = match phase {
        Phase::Prefill { seq_len } => (seq_len, 0),
        Phase::Decode { context } => (1, context),
    };
    let bitnet = m.family == Family::Bitnet;
    let ids = g.input("input_ids", vec![s]);
    let mut x = g.embedding("model.embed_tokens", &ids, m.vocab, d);
    for i in 0..m.layers {
        let l = format!("model.layers.{i}");
        let base = format!("{l}.self_attn");
        // A decode step over an empty cache attends to the new token alone: no cache inputs.
        let cache = (matches!(phase, Phase::Decode { .. }) && context > 0).then(|| {
            let shape = vec![m.kv_heads, context, m.head_dim];
            (
                g.input(&format!("{base}.k_cache"), shape.clone()),
                g.input(&format!("{base}.v_cache"), shape),
            )
        });
        let a = Attention {
            base: &base,
            proj: ["q_proj", "k_proj", "v_proj"].map(|p| format!("{base}.{p}")),
            rope: true,
            cache,
        };
        let n = g.unary(&format!("{l}.input_layernorm"), OpKind::RmsNorm, &x);
        let mut ctx = attention(g, m, &a, &n, s);
        if bitnet {
            ctx = g.unary(&format!("{base}.attn_sub_norm"), OpKind::RmsNorm, &ctx);
        }
        let o = g.linear(&format!("{base}.o_proj"), &ctx, d);
        let h = g.binary(&format!("{l}.attn_residual"), OpKind::Add, &o, &x);
        let n = g.unary(
            &format!("{l}.post_attention_layernorm"),
            OpKind::RmsNorm,
            &h,
        );
        let gate = g.linear(&format!("{l}.mlp.gate_proj"), &n, m.ffn);
        let gate = g.unary(&format!("{l}.mlp.act_fn"), m.act, &gate);
        let up = g.linear(&format!("{l}.mlp.up_proj"), &n, m.ffn);
        let mut f = g.binary(&format!("{l}.mlp.mul"), OpKind::Mul, &gate, &up);
        if bitnet {
            f = g.unary(&format!("{l}.mlp.ffn_sub_norm"), OpKind::RmsNorm, &f);
        }
        let y = g.linear(&format!("{l}.mlp.down_proj"), &f, d);
        x = g.binary(&format!("{l}.mlp_residual"), OpKind::Add, &y, &h);
    }
    let mut x = g.unary("model.norm", OpKind::RmsNorm, &x);
    if matches!(phase, Phase::Prefill { .. }) {
        x = g.slice("model.norm.last_token", &x, -1, None);
    }
    g.push(LayerOut {
        out_features: Some(m.vocab),
        // BitNet keeps its LM head at 8 bits; a design's native scheme must not replace it.
        quant: bitnet.then_some(QuantOut {
            scheme: "int",
            weight_bits: 8,
            activation_bits: None,
        }),
        ..LayerOut::new("lm_head", OpKind::Matmul, &[&x])
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::parse_workload;

    const TINY: &str = r#"{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
        "num_key_value_heads": 2, "intermediate_size": 128, "num_hidden_layers": 1,
        "vocab_size": 100, "max_position_embeddings": 32, "rope_theta": 10000.0}"#;

    #[test]
    fn an_empty_cache_has_no_inputs_and_the_text_parses() {
        let c = parse_config(TINY, "tiny.json").unwrap();
        let w = transformer_workload(&c, Some(Phase::Decode { context: 0 }), 1, "t", "tiny.json")
            .unwrap();
        assert_eq!(w.inputs, [("input_ids".to_string(), vec![1])]);
        let net = parse_workload(&w.to_json().unwrap(), "t.json").unwrap();
        // The new token attends to itself alone: scores [4 heads, 1, 1].
        let scores = net
            .layer_by_name("model.layers.0.self_attn.scores")
            .unwrap();
        assert_eq!(net.tensor(scores.output).shape, vec![4, 1, 1]);
        assert_eq!(
            default_name("tiny", Some(Phase::Decode { context: 0 }), 4),
            "tiny_decode_ctx0_b4"
        );
    }
}
