# tts-vote / tts-score: the voting benchmark (bench/vote.sh, see bench/RESULTS.md).
.PHONY: bench bench-vote
bench: bench-vote
bench-vote: all
	@sh bench/vote.sh
