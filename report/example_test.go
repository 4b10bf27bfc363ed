package report_test

import (
	"fmt"

	"github.com/lsqupload/lsqupload/report"
)

// ExampleRebasePath rewrites a manifest's relative file path for an output
// written to another folder, so the output still names the same file.
func ExampleRebasePath() {
	const manifestDir = "/data/manifests"

	fmt.Println(report.RebasePath("scans/kyc.pdf", manifestDir, "/data/manifests"))
	fmt.Println(report.RebasePath("scans/kyc.pdf", manifestDir, "/data/reports"))
	fmt.Println(report.RebasePath("scans/kyc.pdf", manifestDir, "/data/manifests/failed"))
	fmt.Println(report.RebasePath("/srv/docs/pan.pdf", manifestDir, "/data/reports"))

	// Output:
	// scans/kyc.pdf
	// ../manifests/scans/kyc.pdf
	// ../scans/kyc.pdf
	// /srv/docs/pan.pdf
}
