# tokenize_corpus.py — a 32k-token byte-level BPE with the Llama-3 pre-tokenizer and
# 20000 random texts (words, numbers, scripts, emoji, special tokens), written to the
# current directory with the ids `tokenizers` gives, for bench/tokenize.sh.
import json, os, random, sys, time
sys.argv = ["x"]; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
import make_fixtures as mf
from tokenizers import Tokenizer, Regex, AddedToken, models, pre_tokenizers, decoders, processors, trainers
random.seed(1)
alph = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(random.choice(alph) for _ in range(random.randint(1, 10))) for _ in range(20000)]
uni = "éèàüößçñøåæœЖжПривет世界日本語한국어العربيةहिन्दीΑλφα😀🎉👍🏽"
def sent():
    out = []
    for _ in range(random.randint(3, 30)):
        r = random.random()
        if r < 0.7: w = random.choice(words); w = w.capitalize() if random.random() < 0.1 else w
        elif r < 0.8: w = str(random.randint(0, 10**random.randint(1, 9)))
        elif r < 0.9: w = "".join(random.choice(uni) for _ in range(random.randint(1, 4)))
        else: w = random.choice(["'s", "'ll", "n't", "...", "!", "?", ",", ";", "(", ")", "\n", "\n\n", "  ", "\t", "$", "\\frac{1}{2}"])
        out.append(w)
    return " ".join(out)
train = [sent() for _ in range(60000)]
tok = Tokenizer(models.BPE(ignore_merges=True))
tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(mf.LLAMA3_SPLIT), behavior="isolated", invert=False),
    pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(train, trainers.BpeTrainer(vocab_size=32000, min_frequency=2, show_progress=False,
                                                   initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in mf.SPECIALS])
bos = tok.token_to_id("<|begin_of_text|>")
tok.post_processor = processors.TemplateProcessing(single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", bos)])
tok.save("tokenizer.json")
test = [sent() + random.choice(["", "<|eot_id|>", " <|start_header_id|>x"]) for _ in range(20000)]
t0 = time.time(); enc = tok.encode_batch(test, add_special_tokens=False); t1 = time.time()
with open("corpus.jsonl", "w") as f:
    for s, e in zip(test, enc): f.write(json.dumps({"text": s, "want": e.ids}, ensure_ascii=False) + "\n")
tok2 = Tokenizer.from_file("tokenizer.json")
t0 = time.time()
for s in test: tok2.encode(s, add_special_tokens=False)
t1 = time.time()
print("vocab", tok.get_vocab_size(), "texts", len(test), "bytes", sum(len(s.encode()) for s in test), "tokenizers single-thread encode s", round(t1 - t0, 3))
