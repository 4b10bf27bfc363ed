package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/lsqupload/lsqupload/uploader"
)

// Environment variables and credentials-file names of the keys.
const (
	envAccessKey = "LSQ_ACCESS_KEY"
	envSecretKey = "LSQ_SECRET_KEY"
)

// loadCredentials reads the keys from the --credentials file when one is
// named, else from the environment. No message ever holds a key's value.
func loadCredentials(file string, getenv func(string) string) (uploader.Credentials, error) {
	values := map[string]string{envAccessKey: getenv(envAccessKey),
		envSecretKey: getenv(envSecretKey)}
	source := "the environment"
	if file != "" {
		var err error
		if values, err = readCredentialsFile(file); err != nil {
			return uploader.Credentials{}, err
		}
		source = file
	}

	for _, name := range []string{envAccessKey, envSecretKey} {
		if strings.TrimSpace(values[name]) == "" {
			return uploader.Credentials{}, fmt.Errorf("%s is not set in %s "+
				"(set it in the environment, or name a file with --credentials)", name, source)
		}
	}
	return uploader.NewCredentials(strings.TrimSpace(values[envAccessKey]),
		strings.TrimSpace(values[envSecretKey])), nil
}

// readCredentialsFile reads NAME=value lines from a file that only its
// owner may read. Blank lines, # comments and an "export " prefix are
// allowed; values are taken literally ('$' is common in keys), less one
// pair of surrounding quotes.
func readCredentialsFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--credentials: %w", err)
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("--credentials: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("--credentials %s is readable by others (mode %04o); "+
			"run: chmod 600 %s", path, perm, path)
	}

	values := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		name, value, err := parseCredentialLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("--credentials %s line %d: %w", path, n, err)
		}
		if name != "" {
			values[name] = value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--credentials %s: %w", path, err)
	}
	return values, nil
}

func parseCredentialLine(line string) (name, value string, err error) {
	line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export "))
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", nil
	}
	name, value, ok := strings.Cut(line, "=")
	name = strings.TrimSpace(name)
	if !ok || (name != envAccessKey && name != envSecretKey) {
		return "", "", errors.New("want " + envAccessKey + "=... or " + envSecretKey + "=...")
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	return name, value, nil
}
