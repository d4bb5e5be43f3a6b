# The synthetic task as the bundled models were trained on it (models/README.md).
# Included by mk/models.mk (training data) and pipelines/demo.mk (make demo),
# so the demo asks exactly what the models learned to answer.
SYNTH_FLAGS  ?= --vocab models/tokenizer.json --values 1:9
PROMPT_FLAGS ?= -T models/prompt.txt -c none
