# tts-extract benchmark (bench/extract.sh, figure in bench/RESULTS.md) and
# the check against Qwen2.5-Math's stored verdicts (bench/qwen-agree.sh FILE).
.PHONY: bench bench-extract
bench: bench-extract
bench-extract: all
	@bash bench/extract.sh
