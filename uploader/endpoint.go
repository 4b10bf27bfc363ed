package uploader

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
)

// UploadPath is the File Upload API's path on a files host.
const UploadPath = "/File/Upload"

// regions maps a region code to its documented files host.
var regions = map[string]string{
	"sg":   "files.leadsquared.com",
	"us11": "files-us11.leadsquared.com",
	"in21": "files-in21.leadsquared.com",
	"ir31": "files-ir31.leadsquared.com",
	"ca12": "files-ca12.leadsquared.com",
}

// Regions lists the region codes RegionEndpoint knows, sorted.
func Regions() []string {
	out := make([]string, 0, len(regions))
	for r := range regions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// RegionEndpoint returns the File Upload URL of a region code.
func RegionEndpoint(region string) (string, error) {
	host, ok := regions[strings.ToLower(strings.TrimSpace(region))]
	if !ok {
		return "", fmt.Errorf("unknown region %q (known: %s; or give --endpoint)",
			region, strings.Join(Regions(), ", "))
	}
	return "https://" + host + UploadPath, nil
}

// ParseEndpoint checks a user-given endpoint and completes a bare host URL
// with the upload path. Plain http is refused except to a loopback
// address, because the keys travel in the request body.
func ParseEndpoint(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("endpoint %q is not an http(s) URL with a host", raw)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", fmt.Errorf("endpoint %q: plain http would send the keys unencrypted; "+
			"use https", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = UploadPath
	}
	return u.String(), nil
}

// Destination names an endpoint for the results: scheme, host and path,
// without user information or query, where secrets could hide.
func Destination(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "endpoint"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
