"""Benchmark: the bare ViT-B/32 image encoder in each way this CPU can run it, in one run.

Run: ``python tests/benchmarks/bench_encoder_precisions.py [--threads 2] [--repeats 3]``

A random-weight CLIP vision tower with oai-base's architecture (ViT-B/32, 224 px) is
timed at batch 1 and batch 16, per image, as:

- ``fp32 blas``: float32, matrix products by torch's BLAS (MKL in the official wheels);
- ``fp32 onednn``: float32, matrix products by oneDNN (what pybridge runs in fp32 on a
  CPU, :mod:`pybridge.models.cpu_matmul`);
- ``bf16``: bfloat16 weights and activations (pybridge's ``precision="bf16"``), where
  the CPU computes bfloat16 natively;
- ``int8 dynamic``: torch's dynamic int8 quantisation of the Linear layers (not offered
  by pybridge: with random weights its embeddings keep a cosine near 0.9996 with fp32's,
  but whether it keeps a trained CLIP's scores cannot be shown without trained weights,
  and torch deprecates the quantised tensors it is built on).

For each it prints ms per image, the speed ratio against ``fp32 blas`` and the smallest
cosine between its embeddings and ``fp32 blas``'s. The CPU model and its bfloat16
support come first. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from pybridge.models.cpu_matmul import onednn_matmul
    from pybridge.models.device import cpu_half_precision_support, cpu_model_name

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # torch deprecates its quantised tensors (one more reason pybridge does not offer int8)
    warnings.filterwarnings("ignore", message="torch.quantize_per_tensor")
    torch.set_num_threads(args.threads)
    support = cpu_half_precision_support()
    print(f"CPU: {cpu_model_name()}; native bf16: {support['bf16'] or 'no'}; torch {torch.__version__}, "
          f"{args.threads} threads")  # fmt: skip
    torch.manual_seed(0)
    config = CLIPVisionConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                              image_size=224, patch_size=32, projection_dim=512)  # fmt: skip
    fp32 = CLIPVisionModelWithProjection(config).eval()
    variants = {"fp32 blas": (fp32, torch.float32, None), "fp32 onednn": (fp32, torch.float32, onednn_matmul)}
    if support["bf16"]:
        bf16 = CLIPVisionModelWithProjection(config).eval()
        bf16.load_state_dict(fp32.state_dict())
        variants["bf16"] = (bf16.to(torch.bfloat16), torch.bfloat16, None)
    int8 = torch.ao.quantization.quantize_dynamic(fp32, {torch.nn.Linear}, dtype=torch.qint8)
    variants["int8 dynamic"] = (int8, torch.float32, None)

    for batch in (1, 16):
        pixels = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(batch))
        seconds, embeddings = {}, {}
        for name, (model, dtype, context) in variants.items():

            def run(model=model, dtype=dtype, context=context, pixels=pixels):
                with torch.inference_mode(), (context or contextlib.nullcontext)():
                    return model(pixel_values=pixels.to(dtype)).image_embeds.float()

            embeddings[name] = torch.nn.functional.normalize(run(), dim=-1)
            best = float("inf")
            for _ in range(args.repeats):
                started = time.perf_counter()
                run()
                best = min(best, time.perf_counter() - started)
            seconds[name] = best / batch
        print(f"-- batch {batch}")
        for name, value in seconds.items():
            cosine = float((embeddings[name] * embeddings["fp32 blas"]).sum(dim=-1).min())
            print(f"   {name:14s} {value * 1e3:7.1f} ms/image  {seconds['fp32 blas'] / value:5.2f}x vs fp32 blas  "
                  f"min cosine vs fp32 blas {cosine:.6f}")  # fmt: skip


if __name__ == "__main__":
    main()
