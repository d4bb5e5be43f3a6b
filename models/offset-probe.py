#!/usr/bin/env python3
"""Can the attention model's shape learn a head that looks OFF tokens back,
when the loss asks for it directly?  Random tokens; the target at position t
is the token at t - OFF; train.py's make_model, recipe's optimiser (CPU).

Usage: python3 models/offset-probe.py [OFF [STEPS]]   (default 3, 600)
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as tr  # noqa: E402  (models/train.py: make_model, SHAPE)


def main():
    off = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    torch.manual_seed(0)
    model = tr.make_model("llama", 1024, 0, 4, 500000.0, 0.02)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.01)
    t0 = time.time()
    for step in range(1, steps + 1):
        x = torch.randint(5, 300, (32, 64))
        lab = torch.full_like(x, -100)
        lab[:, off + 1:] = x[:, :-(off + 1)]     # transformers compares logits[t] with labels[t+1]
        loss = model(input_ids=x, labels=lab).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            with torch.no_grad():
                pred = model(input_ids=x).logits[:, :-1].argmax(-1)
            tgt = lab[:, 1:]
            acc = (pred == tgt)[tgt >= 0].float().mean().item()
            print(f"offset {off} step {step}: loss {loss.item():.3f}, accuracy {acc:.2f} "
                  f"({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
