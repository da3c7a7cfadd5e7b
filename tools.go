//go:build tools

// Package main's tools file pins the code generator in go.mod, so `make generate` uses the same
// gqlgen version the committed code came from.
package main

import _ "github.com/99designs/gqlgen"
