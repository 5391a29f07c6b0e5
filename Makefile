# The whole test suite is `make test`; CI runs exactly that (.ci/run).
#
# The targets build and test with go1.27.3, which the go command takes from the Go module proxy
# (76 MB, once per machine): the standard library of the machines' go1.26.8 has known
# vulnerabilities that this one has fixed (docs/reliability.md, "Known vulnerabilities"). The
# code builds and passes its tests on Go 1.26 too (go.mod); GOTOOLCHAIN=local make … runs the
# targets on the installed Go.
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN

.PHONY: test serve build vulncheck

test:
	gofmt -l . | (! grep .) || (echo "gofmt needed on the files above" && false)
	go vet ./...
	go test -race -count=1 -timeout 20m ./...
	scripts/vulncheck

serve:
	go run ./cmd/pinfold serve

# build writes ./pinfold, a static binary for the machine it runs on.
build:
	CGO_ENABLED=0 go build -trimpath -o pinfold ./cmd/pinfold

# vulncheck runs govulncheck against a pinned copy of the Go vulnerability database.
vulncheck:
	scripts/vulncheck
