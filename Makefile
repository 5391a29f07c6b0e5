# The whole test suite is `make test`; CI runs exactly that (.ci/run).
.PHONY: test serve fuzz

test:
	gofmt -l . | (! grep .) || (echo "gofmt needed on the files above" && false)
	go vet ./...
	go test -race -count=1 -timeout 20m ./...

serve:
	go run ./cmd/pinfold serve
