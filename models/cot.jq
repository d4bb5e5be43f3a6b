# The target chain of thought of the tiny models, from a tts-synth-ar record
# (kv, idx, task, answer) to which tts-prompt has added `prompt`:
#   AR:     "Recall K_a=V_a, K_b=V_b, K_c=V_c. V_a+V_b=S1. S1+V_c=S. \boxed{S}"
#   non-AR: "V_a+V_b=S1. S1+V_c=S. \boxed{S}"
# The record keeps `kv` (train.py --aux-recall reads it).  The AR answer
# first states the recalled values, then both add left to right,
# two numbers at a time (only `+`, tts-synth-ar's default ops).  Compact on
# purpose: the demo samples every token 16 times per problem.
def vals: [.idx[] as $i | .kv[$i][1] | tonumber];
def sums: vals as $v
  | reduce range(1; $v | length) as $j ({s: $v[0], out: []};
      .out += ["\(.s)+\($v[$j])=\(.s + $v[$j])."] | .s += $v[$j])
  | .out | join(" ");
def recall: "Recall " + ([.idx[] as $i | "\(.kv[$i][0])=\(.kv[$i][1])"] | join(", ")) + ".";
{id, task, pairs, answer, kv, prompt,
 completion: ((if .task == "ar" then recall + " " else "" end) + sums + " \\boxed{\(.answer)}")}
