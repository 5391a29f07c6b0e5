//go:build !linux && !darwin

package main

import "os"

// terminalWidth returns 0: the width is unknown on this system, and the progress line keeps
// to 80 columns.
func terminalWidth(f *os.File) int { return 0 }
