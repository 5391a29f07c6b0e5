package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pinfold/pinfold"
)

// credentials is the root key pair.
type credentials struct {
	AccessKeyID, SecretAccessKey string
}

const credentialsProfile = "pinfold"

// rootCredentials returns the root key pair: from PINFOLD_ROOT_ACCESS_KEY_ID and
// PINFOLD_ROOT_SECRET_ACCESS_KEY when set, else from <data>/credentials, else a new pair
// written there (mode 0600, AWS shared-credentials format, profile "pinfold"). generated
// reports the last case, so that the pair is shown once.
func rootCredentials(data string, getenv func(string) string) (creds credentials, path string, generated bool, err error) {
	id, secret := getenv("PINFOLD_ROOT_ACCESS_KEY_ID"), getenv("PINFOLD_ROOT_SECRET_ACCESS_KEY")
	switch {
	case id != "" && secret != "":
		return credentials{id, secret}, "", false, nil
	case id != "" || secret != "":
		return creds, "", false, errors.New("set both PINFOLD_ROOT_ACCESS_KEY_ID and PINFOLD_ROOT_SECRET_ACCESS_KEY, or neither")
	}
	path = filepath.Join(data, "credentials")
	creds, err = readCredentials(path)
	if err == nil {
		return creds, path, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return creds, path, false, err
	}
	creds = credentials{AccessKeyID: pinfold.NewAccessKeyID(), SecretAccessKey: pinfold.NewSecretAccessKey()}
	text := fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", credentialsProfile, creds.AccessKeyID, creds.SecretAccessKey)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return creds, path, false, fmt.Errorf("write credentials: %w", err)
	}
	return creds, path, true, nil
}

// readCredentials reads the pinfold profile of a shared-credentials file.
func readCredentials(path string) (credentials, error) {
	var creds credentials
	f, err := os.Open(path)
	if err != nil {
		return creds, err
	}
	defer f.Close()
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || section != credentialsProfile {
			continue
		}
		switch strings.TrimSpace(key) {
		case "aws_access_key_id":
			creds.AccessKeyID = strings.TrimSpace(value)
		case "aws_secret_access_key":
			creds.SecretAccessKey = strings.TrimSpace(value)
		}
	}
	if err := sc.Err(); err != nil {
		return creds, err
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return creds, fmt.Errorf("%s: profile [%s] needs aws_access_key_id and aws_secret_access_key", path, credentialsProfile)
	}
	return creds, nil
}
