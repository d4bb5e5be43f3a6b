#!/usr/bin/env python3
"""Does the attention model's shape learn multi-query associative recall
(MQAR, Zoology's test) at all, on the plainest form of it?  Each sequence is
BOS, P key-value pairs "k v" (keys from 200 token ids, values from 9), then
Q of the keys again, each followed by its value; the loss is on those values
only.  Random data, a fresh batch each step; train.py's make_model and
optimiser (AdamW, betas 0.9/0.95, weight decay 0.01, clipping 1.0, constant
learning rate).  A model that looks nothing up scores about 0.25 (it guesses
among the values in its list); a working lookup, 1.0.

Usage: python3 models/mqar-probe.py [--layers L] [--hidden H] [--lr LR]
       [--batch B] [--steps N] [--seconds S] [--pairs P] [--queries Q]
       [--every K] [--device cpu|cuda]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as tr  # noqa: E402  (models/train.py: make_model, SHAPE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long (0: no limit)")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--queries", type=int, default=3)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--rope-theta", type=float, default=500000.0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    tr.SHAPE.update(layers=a.layers, hidden=a.hidden, intermediate=2 * a.hidden)
    torch.manual_seed(0)
    dev = a.device
    model = tr.make_model("llama", 1024, 0, 4, a.rope_theta, 0.02).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.01)
    g = torch.Generator(device=dev)
    g.manual_seed(1)
    P, Q = a.pairs, a.queries

    def batch(B):
        keys = torch.argsort(torch.rand(B, 200, generator=g, device=dev), 1)[:, :P] + 100
        vals = torch.randint(20, 29, (B, P), generator=g, device=dev)
        ask = torch.argsort(torch.rand(B, P, generator=g, device=dev), 1)[:, :Q]
        qk, qv = keys.gather(1, ask), vals.gather(1, ask)
        body = torch.stack([keys, vals], 2).reshape(B, 2 * P)
        tail = torch.stack([qk, qv], 2).reshape(B, 2 * Q)
        x = torch.cat([torch.zeros(B, 1, dtype=torch.long, device=dev), body, tail], 1)
        lab = torch.full_like(x, -100)
        lab[:, 2 + 2 * P::2] = qv        # the value after each asked key
        return x, lab

    t0 = time.time()
    for step in range(1, a.steps + 1):
        x, lab = batch(a.batch)
        loss = model(input_ids=x, labels=lab).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        done = a.seconds and time.time() - t0 > a.seconds
        if step % a.every == 0 or step == a.steps or done:
            with torch.no_grad():
                x, lab = batch(512)
                pred = model(input_ids=x).logits[:, :-1].argmax(-1)
            tgt = lab[:, 1:]
            acc = (pred == tgt)[tgt >= 0].float().mean().item()
            print(f"mqar layers {a.layers} hidden {a.hidden} lr {a.lr:g} batch {a.batch} "
                  f"step {step} ({step * a.batch} sequences): loss {loss.item():.3f}, "
                  f"accuracy {acc:.3f} ({time.time() - t0:.0f} s)", flush=True)
        if done:
            break


if __name__ == "__main__":
    main()
