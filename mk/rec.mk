# Record-layer benchmark (bench/records.sh): throughput of tts-cat and its
# memory on a long stream.  Append its output to bench/RESULTS.md.
.PHONY: bench-records
bench-records: all
	@bash bench/records.sh
