// A self-signed certificate made at test time with the OpenSSL C API, for
// tests that talk TLS to a server (the `openssl` program is not installed).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <string>

namespace custodian::http::testing {

// Writes a P-256 key and a self-signed certificate for CN=localhost (valid
// for a day) as PEM files. Returns false on any OpenSSL failure.
inline bool WriteSelfSigned(const std::string& cert_path, const std::string& key_path) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) return false;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return false;
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return false;
  FILE* f = std::fopen(cert_path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = PEM_write_X509(f, cert.get()) == 1;
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  if (f == nullptr) return false;
  ok = ok && PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  return ok;
}

}  // namespace custodian::http::testing
