#!/usr/bin/env python3
"""Reference CLIP models and golden vectors for embedd's CLIP path (transformers + PyTorch, fp32).

    tools/make-golden-clip.py full [DIR]     # full-size ViT-B/32, default DIR models/clip-vit-base-patch32-random
    tools/make-golden-clip.py tiny           # the tiny CLIPs + vectors committed in Tests/Fixtures/clip
    tools/make-golden-clip.py configs DIR    # full-size ViT-B/16 and ViT-L/14 folders (a load check, not CI)
    tools/make-golden-clip.py check MODEL_DIR...   # numpy re-implementation (reference_*) vs the goldens
    tools/make-golden-clip.py golden DIR     # goldens for an existing folder (a real CLIP; tools/check-clip-model)

No CLIP weights can be downloaded here, so the models are built from a seed, as
tools/make-golden-image.py builds its ResNets: transformers' `CLIPModel` with its own
initialisation (`torch.manual_seed`), then made less regular than a fresh init so that a wrong
implementation cannot pass by luck (`randomise()`): every LayerNorm weight drawn from U(0.6, 1.4)
and bias from N(0, 0.1²) (a fresh init has 1 and 0, which hides a skipped or misplaced LayerNorm),
every Linear bias from N(0, 0.05²), N(0, 0.02²) for out_proj and fc2 (a fresh init has zeros,
which hides a dropped bias), q_proj/k_proj weights ×4 (sharper, content-dependent attention),
out_proj/fc2 weights ×3 (residual branches that matter) and the token embedding ×4, so unrelated
inputs get clearly different vectors (mean cosine ≈ 0.72 between the full model's 64 texts and
between its 124 photos; HF's plain init gives 0.8-0.9), while activations keep a sane scale (the
full model's residual stream grows from RMS ≈ 1 to ≈ 2.7 over the 12 layers, |x| < 15). The
script prints the cosines between inputs, and checks fp32 against fp64 and batch 16 against 1.
Costs on the 2-core host: full ≈ 2.5 min and 2.6 GB peak RSS (605 MB model.safetensors);
configs ≈ 2 min, 2.5 GB peak RSS, 2.2 GB written (ViT-L/14's model.safetensors is 1.7 GB).
Folders are written as Hugging Face ships openai/clip-vit-base-patch32: config.json (the same
keys and values; tiny sizes for the tiny models), model.safetensors (`save_pretrained`),
vocab.json + merges.txt (CLIP's real BPE vocabulary, tools/clip_vocab.py), tokenizer_config.json,
special_tokens_map.json, preprocessor_config.json; then loaded back with `from_pretrained` (and
`AutoTokenizer` / `AutoImageProcessor` from the folder, the Pillow image-processor path: no
torchvision) to make the vectors. DIR/tensors.txt lists model.safetensors' tensors (name, dtype,
shape).

The tiny models (Tests/Fixtures/clip, all of them with their vectors < 2 MB):
  clip-tiny-quickgelu  text and vision hidden 32, 2 heads (head size 16), 2 layers, MLP 64 (text)
                       and 96 (vision), image 64 with 16×16 patches, projection 16, quick_gelu,
                       eos_token_id 2 as openai's configs have it (HF pools at argmax(input_ids)),
                       preprocessor_config.json in openai's layout ("size": 64, "crop_size": 64).
  clip-tiny-gelu       the same sizes, hidden_act gelu (erf GELU), eos_token_id = the real end
                       token's id (HF pools at the first end token), preprocessor_config.json in
                       the current layout (size {"shortest_edge": 72}, crop_size 64×64: a real
                       centre crop after the resize), other seeds.
Both keep a truncated real vocabulary: the 256 byte symbols, the same with `</w>`, the first
TINY_MERGES merges of the real list, then <|startoftext|> and <|endoftext|> (ids TINY_MERGES+512
and +513): ids below TINY_MERGES+512 are the real vocabulary's ids, so the token embedding stays
small while HF's tokenizer still makes real words of common ones ("photo</w>", "cat</w>").

Golden vectors, in <model folder>/golden/ (DIR/golden for full, outside git; committed for tiny):
  index.json   what every output file holds:
    {"format": 1, "model", "projection_dim", "pooling": "argmax-ids" | "first-eos",
     "eos_token_id" (as the loaded config has it), "versions": {...}, "processor": class name,
     "texts": [{"text", "ids": [token ids, with start and end], "eos_index": pooled position,
                "truncated": bool}],
     "images": {"root": folder the files are relative to (repo-relative where possible),
                "files": [{"file", "width", "height"}]  (size after exif_transpose), "skipped": {}},
     "outputs": [{"file", "of": "texts" | "images" | "pixels", "batch", "rows",
                  "pixels": {"count", "height", "width", "seed"} (for "pixels" only)}],
     "checks": {...}}
  *.f32        little-endian float32, row-major [rows, projection_dim]: the *unnormalised*
               `get_text_features` / `get_image_features` output (…).pooler_output, one row per
               text, file or image of `of`, in index order.
  "batch" says how the reference ran them: 1 = one input per forward; N = chunks of N in one
  forward (texts padded to the longest in the chunk with the pad token <|endoftext|> and an
  attention_mask, as `tokenizer(texts, padding=True, truncation=True, max_length=77)` makes).
  Texts: `tokenizer(text, truncation=True, max_length=77)`. Files: `ImageOps.exif_transpose(
  Image.open(f)).convert("RGB")`, then the folder's image processor. Pixels: not stored;
  `pixels()` makes them from (seed, image, channel, y, x) with the integer hash of
  make-golden-image.py, 4×4 blocks of uint8 values normalised with CLIP's mean and std, all in
  float32, so a Swift test rebuilds them bit for bit.

What transformers 5.25's CLIP forward does (modeling_clip.py), which an implementation must match
(`reference_text` / `reference_image` below do exactly this in numpy from model.safetensors and
config.json alone; `check` runs them against the goldens: max |Δ| ≈ 6e-6 on every model here):
  tensor names (model.safetensors, CLIPModel): text_model.embeddings.{token_embedding,
    position_embedding}.weight; text_model.encoder.layers.N.{self_attn.{q,k,v,out}_proj.{weight,
    bias}, layer_norm1.{weight,bias}, mlp.fc1.{weight,bias}, mlp.fc2.{weight,bias},
    layer_norm2.{weight,bias}}; text_model.final_layer_norm.{weight,bias};
    vision_model.embeddings.class_embedding [hidden], vision_model.embeddings.patch_embedding.weight
    [hidden, 3, P, P] (a Conv2d, stride P, no bias), vision_model.embeddings.position_embedding.weight
    [(S/P)²+1, hidden]; vision_model.pre_layrnorm.{weight,bias} (sic: "layrnorm");
    vision_model.encoder.layers.N.… (as text); vision_model.post_layernorm.{weight,bias};
    visual_projection.weight [proj, vision hidden] and text_projection.weight [proj, text hidden]
    (no biases); logit_scale (a scalar, unused by the features). Linear weights are [out, in].
    position_ids are buffers, not stored.
  text: x = token_embedding[ids] + position_embedding[0..L-1] (position ids 0, 1, …, L-1 whatever
    the padding; L ≤ max_position_embeddings = 77, longer raises); then per layer (pre-LN):
    x += out_proj(attn(layer_norm1(x))); x += fc2(act(fc1(layer_norm2(x)))); then
    final_layer_norm on every position; pooled = the row at the end token (see pooling);
    features = text_projection(pooled).
  attention: q, k, v = q_proj(h), k_proj(h), v_proj(h) split into heads of hidden/heads;
    softmax(q·kᵀ · head_dim^-0.5 + mask) · v (the scale multiplies the logits, q is not pre-scaled
    in the eager path; SDPA is the default on CPU and is the same maths); heads concatenated,
    then out_proj. Text: causal mask (position i sees 0…i) plus, in a padded batch, the padding
    mask; vision: no mask.
  pooling (text): if the loaded config's eos_token_id == 2 (openai's legacy value): the position
    of argmax(input_ids) — the first occurrence of the highest id, which is <|endoftext|> (the
    highest id in the vocabulary); otherwise the first position whose id == eos_token_id. The two
    agree on every tokenizer output (the end token is always present; padding repeats it after
    the first; a literal "<|endoftext|>" in the text becomes the end token and both pool there).
    Beware: a config with "text_config_dict" (openai/clip-vit-large-patch14 has one) is rebuilt
    by CLIPConfig from CLIPTextConfig's defaults, so its effective eos_token_id is 49407, not the
    2 written in text_config.
  vision: pixel_values [N, 3, S, S] (S = image_size exactly; other sizes raise unless
    interpolate_pos_encoding) → patch_embedding conv → [N, (S/P)², hidden] in row-major patch
    order; prepend class_embedding; + position_embedding (position ids 0…(S/P)²); pre_layrnorm;
    the encoder layers (as text, no mask); pooled = post_layernorm(x[:, 0]) — post_layernorm
    applies to the CLS row only (last_hidden_state stays un-normed); features =
    visual_projection(pooled).
  activations: quick_gelu(x) = x · sigmoid(1.702 · x); gelu = the exact erf form,
    0.5 · x · (1 + erf(x / √2)). layer_norm_eps 1e-5 everywhere (biased variance).
  `get_text_features` / `get_image_features` return a BaseModelOutputWithPooling in transformers 5
    (its pooler_output holds the projected features), not a tensor as in 4.x.
  The tokenizer (CLIPTokenizer, tokenizers-backed; no ftfy, no html.unescape — unlike open_clip's
    SimpleTokenizer, "&amp;" stays as written): NFC, runs of whitespace → " ", lower-case; split
    by the regex <\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+
    (whitespace dropped); byte-level BPE with "</w>" on each word's last symbol; ids wrapped as
    <|startoftext|> … <|endoftext|>; truncation keeps the first 75 content tokens.

Needs a venv with torch (CPU), transformers, safetensors, Pillow and open-clip-torch installed with
--no-deps (for its vocabulary file only) — default /work/venv-ref. Two threads.
"""
import glob, json, os, re, sys

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tools'))
import clip_vocab  # noqa: E402

FIX = os.path.join(REPO, 'Tests', 'Fixtures', 'clip')
MEDIA = os.path.join(REPO, 'Tests', 'Fixtures', 'media')
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
TINY_MERGES = 3000

# openai/clip-vit-base-patch32's config.json, key for key (transformers 4.16's full dump of both
# sub-configs, generation defaults included); the sizes are filled in by openai_config().
_SUB_COMMON = {
    "_name_or_path": "", "add_cross_attention": False, "architectures": None, "attention_dropout": 0.0,
    "bad_words_ids": None, "chunk_size_feed_forward": 0, "cross_attention_hidden_size": None,
    "decoder_start_token_id": None, "diversity_penalty": 0.0, "do_sample": False, "dropout": 0.0,
    "early_stopping": False, "encoder_no_repeat_ngram_size": 0, "finetuning_task": None,
    "forced_bos_token_id": None, "forced_eos_token_id": None, "id2label": {"0": "LABEL_0", "1": "LABEL_1"},
    "initializer_factor": 1.0, "initializer_range": 0.02, "is_decoder": False, "is_encoder_decoder": False,
    "label2id": {"LABEL_0": 0, "LABEL_1": 1}, "layer_norm_eps": 1e-05, "length_penalty": 1.0, "max_length": 20,
    "min_length": 0, "no_repeat_ngram_size": 0, "num_beam_groups": 1, "num_beams": 1, "num_return_sequences": 1,
    "output_attentions": False, "output_hidden_states": False, "output_scores": False, "prefix": None,
    "problem_type": None, "pruned_heads": {}, "remove_invalid_values": False, "repetition_penalty": 1.0,
    "return_dict": True, "return_dict_in_generate": False, "sep_token_id": None, "task_specific_params": None,
    "temperature": 1.0, "tie_encoder_decoder": False, "tie_word_embeddings": True, "tokenizer_class": None,
    "top_k": 50, "top_p": 1.0, "torch_dtype": None, "torchscript": False, "transformers_version": "4.16.0.dev0",
    "use_bfloat16": False,
}
B32_TEXT = dict(hidden_act="quick_gelu", hidden_size=512, intermediate_size=2048, num_attention_heads=8,
                num_hidden_layers=12, max_position_embeddings=77, vocab_size=49408, projection_dim=512,
                bos_token_id=0, eos_token_id=2, pad_token_id=1)
B32_VISION = dict(hidden_act="quick_gelu", hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                  num_hidden_layers=12, image_size=224, patch_size=32, projection_dim=512)
L14_TEXT = dict(B32_TEXT, hidden_size=768, intermediate_size=3072, num_attention_heads=12, projection_dim=768)
L14_VISION = dict(B32_VISION, hidden_size=1024, intermediate_size=4096, num_attention_heads=16,
                  num_hidden_layers=24, patch_size=14, projection_dim=768)


def openai_config(name, text, vision, projection_dim, extra=None):
    """config.json in the layout openai's CLIP repositories have on the Hub."""
    t = dict(_SUB_COMMON, model_type="clip_text_model", **text)
    v = dict(_SUB_COMMON, model_type="clip_vision_model", bos_token_id=None, eos_token_id=None,
             pad_token_id=None, **vision)
    cfg = {"_name_or_path": name, "architectures": ["CLIPModel"], "initializer_factor": 1.0,
           "logit_scale_init_value": 2.6592, "model_type": "clip", "projection_dim": projection_dim,
           "text_config": t, "text_config_dict": None, "transformers_version": None,
           "vision_config": v, "vision_config_dict": None}
    cfg.update(extra or {})
    return cfg


def preprocessor_openai(size):
    """preprocessor_config.json as openai/clip-vit-base-patch32 ships it (the other fields —
    rescale 1/255, do_convert_rgb — are CLIPImageProcessor's defaults)."""
    return {"crop_size": size, "do_center_crop": True, "do_normalize": True, "do_resize": True,
            "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": MEAN, "image_std": STD,
            "resample": 3, "size": size}


def preprocessor_current(shortest_edge, crop):
    """The layout `save_pretrained` writes today (what newer CLIP repositories ship)."""
    return {"crop_size": {"height": crop, "width": crop}, "do_center_crop": True, "do_convert_rgb": True,
            "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": MEAN,
            "image_processor_type": "CLIPImageProcessor", "image_std": STD, "resample": 3,
            "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": shortest_edge}}


def _token(content):
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": True,
            "rstrip": False, "single_word": False}


# tokenizer_config.json and special_tokens_map.json as openai/clip-vit-base-patch32 ships them.
TOKENIZER_CONFIG = {"add_prefix_space": False, "bos_token": _token(clip_vocab.START), "do_lower_case": True,
                    "eos_token": _token(clip_vocab.END), "errors": "replace", "model_max_length": 77,
                    "name_or_path": "openai/clip-vit-base-patch32", "pad_token": clip_vocab.END,
                    "special_tokens_map_file": "./special_tokens_map.json", "tokenizer_class": "CLIPTokenizer",
                    "unk_token": _token(clip_vocab.END)}
SPECIAL_TOKENS_MAP = {k: ({kk: vv for kk, vv in v.items() if kk != "__type"} if isinstance(v, dict) else v)
                      for k, v in TOKENIZER_CONFIG.items() if k.endswith("_token")}

# Texts: caption-like English first, then other languages and edge cases. The tiny models use
# TEXTS[:TINY_TEXTS] (which holds a few of each kind and the truncated ones).
TEXTS = [
    "a photo of a cat",
    "a photo of a dog",
    "A black and white cat sleeping on a red sofa.",
    "two people riding bicycles along a river at sunset",
    "Ein Hund läuft über eine grüne Wiese.",
    "un chat noir assis sur le rebord d'une fenêtre",
    "東京の夜景と高層ビル",
    "",
    "a photo of a <|endoftext|> cat",
    "The quick brown fox jumps over the lazy dog. " * 8,  # > 77 tokens: truncated
    "cat " * 75,  # exactly 77 ids
    "cat " * 75 + "dog",  # 78 ids: truncation drops "dog", so the same ids as the line above
    "Fish &amp; chips, $4.99 — it's 3:45pm and we're   hungry!!",
    "A MAN IN A SUIT SPEAKING AT A PODIUM",
    "a close-up of a butterfly on a purple flower",
    "Un perro corriendo en la playa con una pelota",
    "Кошка сидит на подоконнике",
    "🍕 pizza with extra cheese 🧀",
    "a satellite image of farmland",
    "an astronaut riding a horse on the moon",
    "a bowl of ramen with an egg and chopsticks on a wooden table",
    "street market in the rain with colourful umbrellas",
    "a chessboard pattern printed on paper for camera calibration",
    "a red apple and a green pear on a white plate",
    "handwritten digits on a sheet of paper",
    "the Linux penguin logo",
    "a cartoon monkey head rendered in 3D",
    "a colourful fish swimming in a coral reef",
    "a footballer kicking a ball in a stadium",
    "an aerial view of a city with many buildings",
    "a car's licence plate blurred by motion",
    "a fruit basket with oranges, bananas and grapes",
    "a group of coins on a table",
    "the surface of the moon seen through a telescope",
    "a brick building with a clock tower",
    "blurry photo of a ladybug",
    "a diagram of a coffee cup",
    "a portrait of a baboon with a colourful face",
    "a microscope image of cells",
    "a rocket launching into a clear blue sky",
    # the full model only from here
    "a yellow taxi waiting at a traffic light",
    "a kitchen with stainless steel appliances",
    "a snowy mountain reflected in a lake",
    "a child flying a kite on the beach",
    "an old man reading a newspaper on a park bench",
    "a plate of sushi and a cup of green tea",
    "a stop sign at an intersection",
    "a herd of zebras grazing in the savanna",
    "a laptop and a mug of coffee on a desk",
    "a train crossing a bridge over a river",
    "a vase of sunflowers next to a window",
    "a skateboarder doing a trick in a skate park",
    "two giraffes standing near a tree",
    "a lighthouse on a rocky coast during a storm",
    "a birthday cake with lit candles",
    "a man surfing a large wave",
    "a bedroom with a large bed and white sheets",
    "a pile of autumn leaves",
    "Une tour Eiffel illuminée la nuit",
    "Il Colosseo a Roma sotto un cielo azzurro",
    "北京的长城在雪中",
    "서울의 밤거리",
    "مدينة قديمة في الصحراء",
    "a\ttab\tseparated\tcaption\nwith a newline",
]
TINY_TEXTS = 40

# Tiny models' files: committed media fixtures of several formats and colour types that Pillow
# decodes the way EmbedMedia does, one of each decoded picture (many fixtures decode to the same
# pixels; rgba16.png is left out: libpng's simplified API premultiplies). They are variants of one
# synthetic picture, so their vectors are close; the real photos are the full model's.
TINY_IMAGES = ["rgb.png", "rgb16.png", "palette.png", "palette-4bit.png", "grey.png", "grey16.png", "ga16.png",
               "bilevel.png", "grey.jpg", "cmyk.jpg", "ycck.jpg", "exif3.jpg", "exif6.jpg", "progressive.jpg",
               "q75-444.jpg", "lossy.webp", "lossy-alpha.webp", "1x1.png", "10000x3.jpg"]

# (height, width, count, seed) pixel cases; height = width = the model's image size.
PIXEL_CASES = [(4, 1), (16, 4)]


def pixels(count, height, width, seed):
    """[count, 3, height, width] float32: 4×4 blocks of hashed uint8 values, normalised with CLIP's
    mean and std (the hash of make-golden-image.py's pixels())."""
    mean, std = np.array(MEAN, dtype=np.float32), np.array(STD, dtype=np.float32)
    n = np.arange(count, dtype=np.uint32)[:, None, None, None]
    c = np.arange(3, dtype=np.uint32)[None, :, None, None]
    y = (np.arange(height, dtype=np.uint32) // 4)[None, None, :, None]
    x = (np.arange(width, dtype=np.uint32) // 4)[None, None, None, :]
    with np.errstate(over='ignore'):
        h = (np.uint32(seed) * np.uint32(0x9E3779B1)) ^ (n * np.uint32(0x85EBCA77)) ^ (c * np.uint32(0xC2B2AE3D)) \
            ^ (y * np.uint32(0x27D4EB2F)) ^ (x * np.uint32(0x165667B1))
        h = h ^ (h >> np.uint32(15))
        h = h * np.uint32(0x2C1B3C6D)
        h = h ^ (h >> np.uint32(12))
        h = h * np.uint32(0x297A2D39)
        h = h ^ (h >> np.uint32(15))
    v = (h >> np.uint32(24)).astype(np.float32) / np.float32(255)
    return ((v - mean[None, :, None, None]) / std[None, :, None, None]).astype(np.float32)


# ---- models ---------------------------------------------------------------------------------

def randomise(model, seed):
    """Moves a fresh init away from the values that hide bugs (see the module docstring). The
    factors were tuned on the full ViT-B/32 so that unrelated texts and photos land at mean
    cosines near 0.7 (HF's plain init gives 0.8-0.9: a large common component)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(('q_proj.weight', 'k_proj.weight')):
                p.mul_(4.0)
            elif name.endswith(('out_proj.weight', 'fc2.weight')):
                p.mul_(3.0)
            elif name.endswith('token_embedding.weight'):
                p.mul_(4.0)
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.LayerNorm):
                n = m.normalized_shape[0]
                m.weight.copy_(0.6 + 0.8 * torch.rand(n, generator=g))
                m.bias.copy_(0.1 * torch.randn(n, generator=g))
            elif isinstance(m, torch.nn.Linear) and m.bias is not None:
                # Smaller on the biases added to the residual stream: 24 of them add up to one
                # direction shared by every input.
                std = 0.02 if name.endswith(('out_proj', 'fc2')) else 0.05
                m.bias.copy_(std * torch.randn(m.bias.shape[0], generator=g))
    return model


def build(config_json, seed):
    from transformers import CLIPConfig, CLIPModel
    torch.manual_seed(seed)
    model = CLIPModel(CLIPConfig.from_dict(config_json)).eval()
    return randomise(model, seed + 1)


def write_tokenizer(folder, merges_count=None):
    """vocab.json + merges.txt (all of CLIP's, or the first `merges_count` merges and the two
    special tokens after them), tokenizer_config.json, special_tokens_map.json. Returns the
    vocabulary size."""
    if merges_count is None:
        clip_vocab.write(folder)
        size = 49408
    else:
        vocab, merges = clip_vocab.load()
        keep = 512 + merges_count
        small = {t: i for t, i in vocab.items() if i < keep}
        assert len(small) == keep and all(small[a] < 512 + k and small[b] < 512 + k
                                          for k, (a, b) in enumerate(merges[:merges_count]))
        small[clip_vocab.START], small[clip_vocab.END] = keep, keep + 1
        with open(os.path.join(folder, 'vocab.json'), 'w', encoding='utf-8') as f:
            json.dump(small, f, ensure_ascii=False)
        with open(os.path.join(folder, 'merges.txt'), 'w', encoding='utf-8') as f:
            f.write('#version: 0.2\n')
            for a, b in merges[:merges_count]:
                f.write(f'{a} {b}\n')
        size = keep + 2
    for name, doc in (('tokenizer_config.json', TOKENIZER_CONFIG), ('special_tokens_map.json', SPECIAL_TOKENS_MAP)):
        with open(os.path.join(folder, name), 'w') as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write('\n')
    return size


def save(model, folder, config_json, preprocessor, merges_count=None):
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    for name, doc in (('config.json', config_json), ('preprocessor_config.json', preprocessor)):
        with open(os.path.join(folder, name), 'w') as f:
            json.dump(doc, f, indent=2, sort_keys=True)  # the Hub files' key order
            f.write('\n')
    vocab_size = write_tokenizer(folder, merges_count)
    assert vocab_size == config_json['text_config']['vocab_size'], vocab_size
    from safetensors import safe_open
    with safe_open(os.path.join(folder, 'model.safetensors'), 'np') as f, \
            open(os.path.join(folder, 'tensors.txt'), 'w') as out:
        out.write('# model.safetensors: name dtype shape (written by tools/make-golden-clip.py)\n')
        for k in f.keys():
            s = f.get_slice(k)
            out.write(f'{k} {s.get_dtype()} {list(s.get_shape())}\n')


# ---- vectors --------------------------------------------------------------------------------

def load(folder):
    from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel
    torch.set_num_threads(2)
    model = CLIPModel.from_pretrained(folder).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    proc = AutoImageProcessor.from_pretrained(folder, backend='pil')
    # DESIGN.md §8: the reference is the Pillow image processor (transformers picks it when
    # torchvision is absent).
    assert type(proc).__name__.endswith('Pil'), f'{type(proc).__name__}: not the Pillow image processor'
    return model, tok, proc


def eos_index(model, ids):
    eos = model.config.text_config.eos_token_id
    return int(np.argmax(ids)) if eos == 2 else ids.index(eos)


def cosines(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def spread(v):
    """(mean, max) cosine between different rows."""
    u = np.asarray(v, np.float64)
    u = u / np.linalg.norm(u, axis=1, keepdims=True)
    c = (u @ u.T)[~np.eye(len(u), dtype=bool)]
    return float(c.mean()), float(c.max())


def text_features(model, tok, texts, batch):
    out = []
    for i in range(0, len(texts), batch):
        enc = tok(texts[i:i + batch], padding=True, truncation=True, max_length=77, return_tensors='pt')
        with torch.no_grad():
            out.append(model.get_text_features(input_ids=enc['input_ids'],
                                               attention_mask=enc['attention_mask']).pooler_output.double().numpy())
    return np.concatenate(out)


def image_features(model, px, batch):
    out = []
    for i in range(0, len(px), batch):
        with torch.no_grad():
            out.append(model.get_image_features(pixel_values=torch.from_numpy(px[i:i + batch])).pooler_output.double().numpy())
    return np.concatenate(out)


def pictures(root, names=None):
    if names is not None:
        return [os.path.join(root, n) for n in names]
    found = []
    for ext in ('jpg', 'jpeg', 'png', 'webp'):
        found += glob.glob(os.path.join(root, '**', '*.' + ext), recursive=True)
    return sorted(found)


def vectors(folder, texts, image_root, image_names=None, pixel_cases=PIXEL_CASES, batch=16, fp64=True):
    """Writes folder/golden/ (index.json and the .f32 files) and prints the checks (fp64: also run
    the model in float64 and report the fp32 results' cosine to those)."""
    import PIL
    import transformers
    from PIL import Image, ImageOps
    model, tok, proc = load(folder)
    gold = os.path.join(folder, 'golden')
    os.makedirs(gold, exist_ok=True)
    size = model.config.vision_config.image_size
    name = os.path.basename(os.path.normpath(folder))
    index = {'format': 1, 'model': name, 'projection_dim': model.config.projection_dim,
             'pooling': 'argmax-ids' if model.config.text_config.eos_token_id == 2 else 'first-eos',
             'eos_token_id': model.config.text_config.eos_token_id, 'processor': type(proc).__name__,
             'versions': {'torch': torch.__version__, 'transformers': transformers.__version__,
                          'pillow': PIL.__version__, 'numpy': np.__version__},
             'texts': [], 'images': {}, 'outputs': [], 'checks': {}}
    checks = index['checks']
    log = []

    def emit(file, of, rows, batch, v, extra=None):
        v = np.ascontiguousarray(v, dtype='<f4')
        assert v.shape == (rows, index['projection_dim']), v.shape
        v.tofile(os.path.join(gold, file))
        index['outputs'].append(dict({'file': file, 'of': of, 'batch': batch, 'rows': rows}, **(extra or {})))

    def f64(c):
        return 'fp64 not run' if c != c else f'fp32 vs fp64 cosine ≥ {c:.9f}'

    def with_fp64(fn):
        """fn(model) in fp32 and in fp64; (fp32 result, min cosine fp32 vs fp64)."""
        v32 = fn(model)
        if not fp64:
            return v32, float('nan')
        model.double()
        try:
            v64 = fn(model)
        finally:
            model.float()
        return v32, float(cosines(v32, v64).min())

    # Texts.
    for t in texts:
        ids = tok(t, truncation=True, max_length=77)['input_ids']
        full = tok(t, verbose=False)['input_ids']
        index['texts'].append({'text': t, 'ids': ids, 'eos_index': eos_index(model, ids), 'truncated': len(full) > len(ids)})
    if texts:
        v1, c64 = with_fp64(lambda m: text_features(m, tok, texts, 1))
        vb = text_features(model, tok, texts, batch)
        emit('text.b1.f32', 'texts', len(texts), 1, v1)
        emit(f'text.b{batch}.f32', 'texts', len(texts), batch, vb)
        mean, mx = spread(v1)
        checks.update(text_fp32_vs_fp64_cosine_min=c64, text_batch_vs_single_cosine_min=float(cosines(v1, vb).min()),
                      text_cosine_between_mean=mean, text_cosine_between_max=mx)
        log.append(f'{len(texts)} texts: |v| {np.linalg.norm(v1, axis=1).min():.3g}…{np.linalg.norm(v1, axis=1).max():.3g}, '
                   f'{f64(c64)}, batch {batch} vs 1 ≥ {checks["text_batch_vs_single_cosine_min"]:.9f}, '
                   f'cosine between texts mean {mean:.3f} max {mx:.3f}')

    # Picture files.
    files, skipped, px = [], {}, []
    root = os.path.abspath(image_root)
    for path in pictures(root, image_names):
        rel = os.path.relpath(path, root)
        try:
            with Image.open(path) as im:
                rgb = ImageOps.exif_transpose(im).convert('RGB')
        except Exception as e:  # the decoders' own tests cover broken files
            skipped[rel] = str(e)
            continue
        files.append({'file': rel, 'width': rgb.width, 'height': rgb.height})
        px.append(proc(images=rgb, return_tensors='np')['pixel_values'][0].astype(np.float32))
    shown = os.path.relpath(root, REPO) if root.startswith(REPO + os.sep) else root
    index['images'] = {'root': shown, 'files': files, 'skipped': skipped}
    if files:
        px = np.stack(px)
        assert px.shape[1:] == (3, size, size), px.shape
        v1, c64 = with_fp64(lambda m: image_features(m, px, 1))
        vb = image_features(model, px, batch)
        emit('images.b1.f32', 'images', len(files), 1, v1)
        emit(f'images.b{batch}.f32', 'images', len(files), batch, vb)
        mean, mx = spread(v1)
        checks.update(images_fp32_vs_fp64_cosine_min=c64, images_batch_vs_single_cosine_min=float(cosines(v1, vb).min()),
                      images_cosine_between_mean=mean, images_cosine_between_max=mx)
        log.append(f'{len(files)} files from {shown} ({len(skipped)} skipped): {f64(c64)}, '
                   f'batch {batch} vs 1 ≥ {checks["images_batch_vs_single_cosine_min"]:.9f}, '
                   f'cosine between images mean {mean:.3f} max {mx:.3f}')

    # Seeded pixel tensors.
    for count, seed in pixel_cases:
        x = pixels(count, size, size, seed)
        v1, c64 = with_fp64(lambda m: image_features(m, x, 1))
        vb = image_features(model, x, count)
        case = {'count': count, 'height': size, 'width': size, 'seed': seed}
        stem = f'pixels.{size}x{size}.n{count}.s{seed}'
        emit(f'{stem}.b1.f32', 'pixels', count, 1, v1, {'pixels': case})
        emit(f'{stem}.b{count}.f32', 'pixels', count, count, vb, {'pixels': case})
        mean, mx = spread(v1)
        checks[f'{stem}_fp32_vs_fp64_cosine_min'] = c64
        log.append(f'{stem}: {f64(c64)}, batch {count} vs 1 ≥ {cosines(v1, vb).min():.9f}, '
                   f'cosine between mean {mean:.3f} max {mx:.3f}')

    index['checks'] = {k: v for k, v in checks.items() if v == v}  # no NaN (fp64 not run): strict JSON
    with open(os.path.join(gold, 'index.json'), 'w', encoding='utf-8') as f:
        text = json.dumps(index, indent=1, ensure_ascii=False, allow_nan=False)
        # Lists of numbers (token ids) on one line.
        f.write(re.sub(r'\[\s+([-0-9.e+]+(?:,\s+[-0-9.e+]+)*)\s+\]', lambda m: '[' + ' '.join(m.group(1).split()) + ']', text))
        f.write('\n')
    print(f'{os.path.relpath(gold, REPO) if gold.startswith(REPO) else gold}: {index["pooling"]} pooling, '
          f'processor {index["processor"]}')
    for line in log:
        print('  ' + line)


# ---- an independent forward, from the facts in the docstring -------------------------------

class Reference:
    """CLIP's two towers in numpy float64, from model.safetensors and config.json alone (no
    transformers): the executable form of the docstring's list."""

    def __init__(self, folder):
        from safetensors.numpy import load_file
        self.w = {k: v.astype(np.float64) for k, v in load_file(os.path.join(folder, 'model.safetensors')).items()}
        cfg = json.load(open(os.path.join(folder, 'config.json')))
        self.text_cfg, self.vision_cfg = cfg['text_config'], cfg['vision_config']
        # transformers 5 rebuilds text_config from CLIPTextConfig's defaults when text_config_dict
        # is present, so eos_token_id becomes the default 49407 there.
        self.eos = self.text_cfg['eos_token_id']
        if cfg.get('text_config_dict'):
            self.eos = cfg['text_config_dict'].get('eos_token_id', 49407)

    def _ln(self, x, p):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-5) * self.w[p + '.weight'] + self.w[p + '.bias']

    def _linear(self, x, p, bias=True):
        y = x @ self.w[p + '.weight'].T
        return y + self.w[p + '.bias'] if bias else y

    @staticmethod
    def _act(x, kind):
        import math
        if kind == 'quick_gelu':
            return x / (1 + np.exp(-1.702 * x))
        assert kind == 'gelu', kind
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))

    def _encoder(self, x, prefix, cfg, causal):
        t, d = x.shape
        heads = cfg['num_attention_heads']
        hd = d // heads
        mask = np.triu(np.full((t, t), -np.inf), 1) if causal else np.zeros((t, t))
        for layer in range(cfg['num_hidden_layers']):
            p = f'{prefix}.encoder.layers.{layer}'
            h = self._ln(x, p + '.layer_norm1')
            q, k, v = (self._linear(h, f'{p}.self_attn.{n}_proj').reshape(t, heads, hd).transpose(1, 0, 2) for n in 'qkv')
            a = q @ k.transpose(0, 2, 1) * hd ** -0.5 + mask
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            x = x + self._linear((a @ v).transpose(1, 0, 2).reshape(t, d), p + '.self_attn.out_proj')
            h = self._ln(x, p + '.layer_norm2')
            x = x + self._linear(self._act(self._linear(h, p + '.mlp.fc1'), cfg['hidden_act']), p + '.mlp.fc2')
        return x

    def text(self, ids):
        w = self.w
        x = w['text_model.embeddings.token_embedding.weight'][ids] + w['text_model.embeddings.position_embedding.weight'][:len(ids)]
        x = self._ln(self._encoder(x, 'text_model', self.text_cfg, True), 'text_model.final_layer_norm')
        pooled = x[int(np.argmax(ids)) if self.eos == 2 else list(ids).index(self.eos)]
        return self._linear(pooled, 'text_projection', bias=False)

    def image(self, px):
        """px: [3, S, S] normalised pixels."""
        w = self.w
        kernel = w['vision_model.embeddings.patch_embedding.weight']
        d, p, n = kernel.shape[0], self.vision_cfg['patch_size'], px.shape[-1] // self.vision_cfg['patch_size']
        patches = px.reshape(3, n, p, n, p).transpose(1, 3, 0, 2, 4).reshape(n * n, 3 * p * p)  # row-major patches
        x = np.concatenate([w['vision_model.embeddings.class_embedding'][None], patches @ kernel.reshape(d, -1).T])
        x = x + w['vision_model.embeddings.position_embedding.weight']
        x = self._encoder(self._ln(x, 'vision_model.pre_layrnorm'), 'vision_model', self.vision_cfg, False)
        return self._linear(self._ln(x[0], 'vision_model.post_layernorm'), 'visual_projection', bias=False)


def check(folder, limit=None):
    """Reference vs the batch-1 goldens (texts and seeded pixels; picture files need the image
    processor, which EmbedVision's own tests cover). Returns the worst cosine."""
    ref = Reference(folder)
    gold = os.path.join(folder, 'golden')
    index = json.load(open(os.path.join(gold, 'index.json'), encoding='utf-8'))
    worst = 1.0
    for o in index['outputs']:
        if o['batch'] != 1 or o['of'] == 'images':
            continue
        want = np.fromfile(os.path.join(gold, o['file']), '<f4').reshape(o['rows'], -1).astype(np.float64)[:limit]
        if o['of'] == 'texts':
            got = np.stack([ref.text(t['ids']) for t in index['texts'][:len(want)]])
        else:
            c = o['pixels']
            got = np.stack([ref.image(x) for x in pixels(c['count'], c['height'], c['width'], c['seed']).astype(np.float64)[:len(want)]])
        cos = float(cosines(got, want).min())
        worst = min(worst, cos)
        print(f'{os.path.basename(os.path.normpath(folder))} {o["file"]}: {len(want)} rows, cosine ≥ {cos:.9f}, '
              f'max |Δ| {np.abs(got - want).max():.2e}')
    return worst


# ---- the commands ---------------------------------------------------------------------

TINY_TEXT = dict(hidden_size=32, intermediate_size=64, num_attention_heads=2, num_hidden_layers=2,
                 max_position_embeddings=77, vocab_size=TINY_MERGES + 514, projection_dim=16, pad_token_id=1)
TINY_VISION = dict(hidden_size=32, intermediate_size=96, num_attention_heads=2, num_hidden_layers=2,
                   image_size=64, patch_size=16, projection_dim=16)
TINY = {
    'clip-tiny-quickgelu': dict(
        seed=20, text=dict(TINY_TEXT, hidden_act='quick_gelu', bos_token_id=0, eos_token_id=2),
        vision=dict(TINY_VISION, hidden_act='quick_gelu'), preprocessor=preprocessor_openai(64)),
    'clip-tiny-gelu': dict(
        seed=30, text=dict(TINY_TEXT, hidden_act='gelu', bos_token_id=TINY_MERGES + 512, eos_token_id=TINY_MERGES + 513),
        vision=dict(TINY_VISION, hidden_act='gelu'), preprocessor=preprocessor_current(72, 64)),
}


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ''
    if what == 'full':
        folder = sys.argv[2] if len(sys.argv) > 2 else os.path.join(REPO, 'models', 'clip-vit-base-patch32-random')
        cfg = openai_config('openai/clip-vit-base-patch32', B32_TEXT, B32_VISION, 512)
        save(build(cfg, seed=32), folder, cfg, preprocessor_openai(224))
        photos = os.environ.get('EMBEDD_PHOTOS_DIR', os.path.join(REPO, 'bench', 'data', 'photos'))
        if not os.path.isdir(photos):
            sys.exit(f'{photos}: no photos (run tools/fetch-test-media)')
        vectors(folder, TEXTS, photos)
    elif what == 'tiny':
        for name, spec in TINY.items():
            folder = os.path.join(FIX, name)
            cfg = openai_config(name, spec['text'], spec['vision'], 16)
            save(build(cfg, seed=spec['seed']), folder, cfg, spec['preprocessor'], merges_count=TINY_MERGES)
            vectors(folder, TEXTS[:TINY_TEXTS], MEDIA, TINY_IMAGES)
    elif what == 'configs' and len(sys.argv) > 2:
        for name, text, vision, proj, extra in [
                ('clip-vit-base-patch16', B32_TEXT, dict(B32_VISION, patch_size=16), 512, None),
                # openai/clip-vit-large-patch14's config.json also carries the legacy *_config_dict
                # overrides (which make transformers 5 rebuild the text config from its defaults).
                ('clip-vit-large-patch14', L14_TEXT, L14_VISION, 768, dict(
                    _name_or_path='clip-vit-large-patch14/', torch_dtype='float32',
                    text_config_dict=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                          num_hidden_layers=12, projection_dim=768),
                    vision_config_dict=dict(hidden_size=1024, intermediate_size=4096, num_attention_heads=16,
                                            num_hidden_layers=24, patch_size=14, projection_dim=768)))]:
            folder = os.path.join(sys.argv[2], name + '-random')
            cfg = openai_config(extra.get('_name_or_path', 'openai/' + name) if extra else 'openai/' + name,
                                text, vision, proj, extra)
            model = build(cfg, seed=proj + vision['patch_size'])
            save(model, folder, cfg, preprocessor_openai(224))
            del model
            vectors(folder, TEXTS[:2], MEDIA, [], pixel_cases=[(2, 1)], batch=2, fp64=False)
    elif what == 'golden' and len(sys.argv) > 2:
        # A folder made elsewhere (a real openai/clip-vit-*): references for the test texts and
        # photos, written to DIR/golden/ (tools/check-clip-model points DIR at a folder of links).
        photos = os.environ.get('EMBEDD_PHOTOS_DIR', os.path.join(REPO, 'bench', 'data', 'photos'))
        if not os.path.isdir(photos):
            sys.exit(f'{photos}: no photos (run tools/fetch-test-media)')
        vectors(sys.argv[2], TEXTS, photos, fp64=False)
    elif what == 'check' and len(sys.argv) > 2:
        limit = int(os.environ.get('CHECK_LIMIT', '0')) or None  # rows per file (the full model is slow in numpy)
        worst = min(check(folder, limit) for folder in sys.argv[2:])
        if worst < 0.99999:
            sys.exit(f'the reference forward disagrees with the goldens (cosine {worst})')
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
