package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps dependencies pointing one way: manifest and report
// know nothing of uploader or batch, and uploader knows nothing of batch.
func TestLayering(t *testing.T) {
	const mod = "github.com/lsqupload/lsqupload/"
	forbidden := map[string][]string{
		"manifest":         {"uploader", "batch", "report"},
		"report":           {"uploader", "batch", "manifest"},
		"uploader":         {"batch", "manifest", "report"},
		"uploader/lsqtest": {"uploader", "batch", "manifest", "report"},
	}
	for pkg, banned := range forbidden {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, b := range banned {
			for _, d := range deps {
				if d == mod+b {
					t.Errorf("%s depends on %s", pkg, b)
				}
			}
		}
	}
}
