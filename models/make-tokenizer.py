#!/usr/bin/env python3
"""Train the tiny models' tokenizer: models/tokenizer.json.

Byte-level BPE with the Llama-3 pre-tokenizer (Split on the Llama-3 regex,
then ByteLevel), the Llama-3 special tokens, and a post-processor that puts
<|begin_of_text|> before every sequence.  The training corpus is made here
from a fixed list of common English words, digits and the phrases of the
synthetic tasks, repeated so that every listed word becomes one token with a
leading space ("Ġapple").  Those whole-word tokens are the keys that
`tts-synth-ar --vocab models/tokenizer.json` draws.

--kv-tokens (an experiment, models/README.md): a value of the list and the
colon before it are one token (": 5": the Split regex takes ": ?\\p{N}" first),
and the corpus recalls values as "key: 5" too, so in "List: boat: 5, ..." and
"Recall boat: 5" every value token directly follows its key.

Deterministic: same script, same tokenizers version -> same file.
Usage: python3 models/make-tokenizer.py [--kv-tokens] [OUT]   (default models/tokenizer.json)
"""
import random
import sys

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

VOCAB = 1024
SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
           "<|end_header_id|>", "<|eot_id|>"]
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

WORDS = """
apple river house table chair window garden forest mountain ocean
bread cheese butter honey lemon orange grape melon cherry peach
tiger horse camel zebra eagle raven otter panda koala whale
shark snake mouse rabbit sheep goat llama bison moose wolf
piano guitar violin drum flute trumpet harp cello banjo organ
cloud storm thunder rain snow winter summer autumn spring frost
stone metal iron copper silver gold glass paper cotton silk
train plane boat truck bike wagon rocket ship canoe yacht
castle tower bridge church temple palace cabin hotel market school
doctor farmer king queen pilot sailor baker tailor judge nurse
candle lamp mirror clock bottle basket bucket ladder hammer shovel
pencil brush book letter map ticket coin wallet ring crown
shirt jacket boot glove scarf hat dress sock belt coat
bottle carpet pillow blanket curtain sofa desk shelf closet drawer
planet comet star moon sun galaxy meteor orbit nebula quasar
valley desert island canyon meadow swamp lake pond creek beach
flower tulip daisy rose lily orchid cactus fern maple oak
pepper garlic onion carrot potato tomato bean pea corn rice
sugar salt flour cream milk juice coffee tea soup salad
engine wheel motor cable button switch screen camera phone radio
dragon giant wizard knight robot pirate ghost angel monster fairy
circle square angle line point shape cube sphere cone prism
yellow purple green black white brown violet amber coral ivory
friend family father mother sister brother uncle cousin baby child
""".split()

PHRASES = [
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "The answer is", "A value that is a word stands for that word's value.",
]


KV_SPLIT = r": ?\p{N}|" + LLAMA3_SPLIT


def corpus(rng, kv_tokens=False):
    """Text in the shape of tts-synth-ar's questions and the models' answers."""
    nums = [str(i) for i in range(0, 1000)]
    for _ in range(40):
        rng.shuffle(WORDS)
        for i in range(0, len(WORDS), 10):
            chunk = WORDS[i:i + 10]
            vals = [rng.randint(1, 99) for _ in chunk]
            kv = ", ".join(f"{w}: {v}" for w, v in zip(chunk, vals))
            a, b, c = vals[:3]
            yield (f"List: {kv}.\nWhat is {chunk[0]} + {chunk[1]} + {chunk[2]}? "
                   f"Put the final answer in \\boxed{{}}.\n")
            yield f"What is {a} + {b} + {c}? Put the final answer in \\boxed{{}}.\n"
            eq = ": " if kv_tokens else "="
            yield (f"Recall {chunk[0]}{eq}{a}, {chunk[1]}{eq}{b}, {chunk[2]}{eq}{c}. "
                   f"{a}+{b}={a + b}. {a + b}+{c}={a + b + c}. \\boxed{{{a + b + c}}}\n")
        yield "\n".join(PHRASES) + "\n"
        yield " ".join(rng.choice(nums) for _ in range(200)) + "\n"


def main():
    args = sys.argv[1:]
    kv_tokens = "--kv-tokens" in args
    args = [a for a in args if a != "--kv-tokens"]
    out = args[0] if args else "models/tokenizer.json"
    rng = random.Random(20251130)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(KV_SPLIT if kv_tokens else LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=2, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus(rng, kv_tokens), trainer=trainer)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    tok.save(out)
    whole = [w for w in set(WORDS) if tok.token_to_id("\u0120" + w) is not None]
    print(f"{out}: vocab {tok.get_vocab_size()}, {len(whole)}/{len(set(WORDS))} listed words "
          f"are single tokens", file=sys.stderr)
    if kv_tokens:
        vt = [d for d in "123456789" if tok.token_to_id(":\u0120" + d) is not None]
        print(f"{out}: {len(vt)}/9 values ': N' are single tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
