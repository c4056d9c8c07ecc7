#!/usr/bin/env python3
"""Golden vectors for sentence-transformers prompts through the daemon (issue 26).

    tools/make-golden-prompts.py [--models DIR]

Copies all-MiniLM-L6-v2 from DIR (default <repo>/models) into a temporary folder (weights
symlinked) with Tests/Fixtures/text/prompts/config_sentence_transformers.json — named prompts
in the styles of e5 ("query: ", "passage: ") and bge (its query instruction), and a
default_prompt_name — and runs sentence-transformers on it, writing into
Tests/Fixtures/text/prompts/:

  golden.json   {"model", "cases": [{"text", "prompt", "tokens"}]}: "prompt" is a prompt
                name, null (encode() without prompt_name: the default prompt applies) or
                "none" (encode(prompt=""): no prompt, embedd's spelling of it); "tokens" is
                how many tokens prompt + text has, special tokens included, before any cut
  golden.f32    little-endian float32 vectors, case after case (384 each)

IntegrationTests/PromptTests embeds the same cases through the real daemon and compares.

Needs torch (CPU), transformers and sentence-transformers (e.g. /work/venv-ref, or a venv as in
bench/text; `pip install --no-deps --target DIR sentence-transformers` and PYTHONPATH=DIR works
too).
"""
import argparse, json, os, shutil, sys, tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, 'Tests', 'Fixtures', 'text', 'prompts')
MODEL = 'all-MiniLM-L6-v2'

TEXTS = [
    'how much protein should a female eat',
    'As a general guideline, the CDC recommends 46 grams of protein per day for women.',
    'Ünïcödé, punctuation!? and    spaces',
    'x',
    # Over 256 tokens with any prompt: the cut keeps the prompt and drops the text's end.
    ' '.join(['the quick brown fox jumps over the lazy dog'] * 30),
]
PROMPTS = [None, 'passage', 'bge', 'none']


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--models', default=os.path.join(REPO, 'models'))
    args = ap.parse_args()
    import numpy as np, torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    src = os.path.join(args.models, MODEL)
    if not os.path.isfile(os.path.join(src, 'model.safetensors')):
        sys.exit(f'{src} has no model.safetensors: run tools/fetch-models')
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, MODEL + '-prompts')
        os.mkdir(folder)
        for name in os.listdir(src):
            if name != 'config_sentence_transformers.json':
                os.symlink(os.path.join(src, name), os.path.join(folder, name))
        shutil.copyfile(os.path.join(OUT, 'config_sentence_transformers.json'),
                        os.path.join(folder, 'config_sentence_transformers.json'))
        model = SentenceTransformer(folder, device='cpu')
        cases, vectors = [], []
        for prompt in PROMPTS:
            for text in TEXTS:
                if prompt is None:
                    v = model.encode([text], convert_to_numpy=True)
                    prefix = model.prompts[model.default_prompt_name]
                elif prompt == 'none':
                    v = model.encode([text], prompt='', convert_to_numpy=True)
                    prefix = ''
                else:
                    v = model.encode([text], prompt_name=prompt, convert_to_numpy=True)
                    prefix = model.prompts[prompt]
                tokens = len(model.tokenizer(prefix + text, truncation=False)['input_ids'])
                cases.append({'text': text, 'prompt': prompt, 'tokens': tokens})
                vectors.append(v[0].astype('<f4'))
    with open(os.path.join(OUT, 'golden.json'), 'w', encoding='utf-8') as f:
        json.dump({'model': MODEL, 'cases': cases}, f, ensure_ascii=False, indent=1)
        f.write('\n')
    np.stack(vectors).astype('<f4').tofile(os.path.join(OUT, 'golden.f32'))
    print(f'{len(cases)} cases, dim {vectors[0].shape[0]} -> {OUT}')


if __name__ == '__main__':
    main()
