// JSON-RPC over HTTPS against a loopback TLS server whose certificates the test generates with
// OpenSSL: a trusted chain succeeds, an untrusted or misnamed certificate fails as kTransport.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "chain/rpc_client.hpp"
#include "chain/test_anvil.hpp"
#include "infra/asio.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

namespace inferd::chain {
namespace {

using nlohmann::json;
using tcp = asio::ip::tcp;
using testing::run;

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertificateDeleter {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertificatePtr = std::unique_ptr<X509, CertificateDeleter>;

KeyPtr new_p256_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    throw std::runtime_error("EVP_EC_gen(P-256) failed");
  }
  return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) {
    throw std::runtime_error(std::string("X509V3_EXT_conf_nid failed for ") + value);
  }
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// An X.509 v3 certificate for `key`, valid for an hour. With no issuer it is a self-signed CA;
// otherwise a server certificate signed by the issuer with `subject_alt_name` (e.g. "IP:...").
CertificatePtr new_certificate(EVP_PKEY* key, const std::string& common_name,
                               X509* issuer_certificate, EVP_PKEY* issuer_key,
                               const std::string& subject_alt_name) {
  CertificatePtr certificate(X509_new());
  X509* cert = certificate.get();
  X509_set_version(cert, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);

  const bool self_signed = issuer_certificate == nullptr;
  X509* issuer = self_signed ? cert : issuer_certificate;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  if (self_signed) {
    add_extension(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(cert, issuer, NID_subject_key_identifier, "hash");
  } else {
    add_extension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, issuer, NID_ext_key_usage, "serverAuth");
    add_extension(cert, issuer, NID_subject_alt_name, subject_alt_name.c_str());
  }
  if (X509_sign(cert, self_signed ? key : issuer_key, EVP_sha256()) == 0) {
    throw std::runtime_error("X509_sign failed for " + common_name);
  }
  return certificate;
}

std::string to_pem(X509* certificate) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), certificate);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string to_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// A CA and a server certificate it signed, all as PEM text.
struct TestPki {
  std::string ca_pem;
  std::string server_certificate_pem;
  std::string server_key_pem;
};

TestPki make_pki(const std::string& subject_alt_name) {
  KeyPtr ca_key = new_p256_key();
  CertificatePtr ca = new_certificate(ca_key.get(), "inferd test CA", nullptr, nullptr, "");
  KeyPtr server_key = new_p256_key();
  CertificatePtr server = new_certificate(server_key.get(), "inferd test RPC", ca.get(),
                                          ca_key.get(), subject_alt_name);
  return TestPki{to_pem(ca.get()), to_pem(server.get()), to_pem(server_key.get())};
}

// A JSON-RPC server on 127.0.0.1 over TLS that replies to every request with result "0x7a69".
// Counts completed TLS handshakes, so a test can tell a rejected certificate from a dead server.
class TlsRpcServer {
 public:
  TlsRpcServer(asio::io_context& io, const TestPki& pki)
      : tls_(asio::ssl::context::tls_server),
        acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    tls_.use_certificate_chain(asio::buffer(pki.server_certificate_pem));
    tls_.use_private_key(asio::buffer(pki.server_key_pem), asio::ssl::context::pem);
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  std::string url() const {
    return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int handshakes() const { return handshakes_; }

 private:
  Awaitable<void> accept_loop() {
    while (true) {
      tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  Awaitable<void> serve(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), tls_);
    boost::system::error_code ec;
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return;  // the client rejected the certificate
    }
    ++handshakes_;
    beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> request;
      co_await http::async_read(stream, buffer, request,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        co_return;
      }
      const json call = json::parse(request.body());
      http::response<http::string_body> response(http::status::ok, 11);
      response.keep_alive(request.keep_alive());
      response.set(http::field::content_type, "application/json");
      response.body() = answer(call).dump();
      response.prepare_payload();
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        co_return;
      }
    }
  }

  static json answer(const json& call) {
    if (call.is_array()) {
      json replies = json::array();
      for (const json& item : call) {
        replies.push_back(answer(item));
      }
      return replies;
    }
    return {{"jsonrpc", "2.0"}, {"id", call["id"]}, {"result", "0x7a69"}};
  }

  asio::ssl::context tls_;
  tcp::acceptor acceptor_;
  int handshakes_ = 0;
};

class RpcClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("inferd-rpc-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_ca(const TestPki& pki) {
    const std::filesystem::path path = dir_ / "ca.pem";
    std::ofstream(path) << pki.ca_pem;
    return path.string();
  }

  // Two attempts, so the tests also show that a rejected certificate is retried like any
  // transport failure (another configured URL could hold a valid one).
  RpcClientOptions options(const std::string& url) {
    RpcClientOptions result;
    result.urls = {url};
    result.max_attempts = 2;
    result.attempt_timeout = std::chrono::milliseconds(5000);
    result.initial_backoff = std::chrono::milliseconds(1);
    result.max_backoff = std::chrono::milliseconds(2);
    return result;
  }

  // Calls eth_chainId and returns the RpcError it throws; fails the test when it succeeds.
  RpcError expect_call_error(infra::HttpClient& http, const std::string& url) {
    RpcClient rpc(http, options(url), metrics_);
    try {
      run(io_, rpc.call("eth_chainId"));
    } catch (const RpcError& error) {
      return error;
    }
    ADD_FAILURE() << "eth_chainId over an untrusted certificate succeeded";
    return RpcError(RpcErrorKind::kRpcError, "no error");
  }

  asio::io_context io_;
  infra::metrics::Registry metrics_;
  std::filesystem::path dir_;
};

TEST_F(RpcClientTlsTest, CallSucceedsWithConfiguredCa) {
  const TestPki pki = make_pki("IP:127.0.0.1");
  TlsRpcServer server(io_, pki);
  infra::HttpClientOptions http_options;
  http_options.ca_file = write_ca(pki);
  infra::HttpClient http(io_.get_executor(), http_options);
  RpcClient rpc(http, options(server.url()), metrics_);

  const json chain_id = run(io_, rpc.call("eth_chainId"));

  EXPECT_EQ(chain_id, "0x7a69");
  EXPECT_EQ(server.handshakes(), 1);
}

TEST_F(RpcClientTlsTest, BatchReusesTlsConnection) {
  const TestPki pki = make_pki("IP:127.0.0.1");
  TlsRpcServer server(io_, pki);
  infra::HttpClientOptions http_options;
  http_options.ca_file = write_ca(pki);
  infra::HttpClient http(io_.get_executor(), http_options);
  RpcClient rpc(http, options(server.url()), metrics_);

  const json first = run(io_, rpc.call("eth_chainId"));
  const std::vector<RpcResponse> batch =
      run(io_, rpc.batch({{"eth_chainId", json::array()}, {"eth_blockNumber", json::array()}}));

  EXPECT_EQ(first, "0x7a69");
  ASSERT_EQ(batch.size(), 2u);
  ASSERT_TRUE(batch[0].ok());
  EXPECT_EQ(*batch[0].result, "0x7a69");
  ASSERT_TRUE(batch[1].ok());
  EXPECT_EQ(*batch[1].result, "0x7a69");
  EXPECT_EQ(server.handshakes(), 1) << "the batch should reuse the pooled TLS connection";
}

TEST_F(RpcClientTlsTest, UntrustedCertificateIsTransportError) {
  const TestPki pki = make_pki("IP:127.0.0.1");
  TlsRpcServer server(io_, pki);
  infra::HttpClient http(io_.get_executor());  // system CAs only

  const RpcError error = expect_call_error(http, server.url());

  EXPECT_EQ(error.kind(), RpcErrorKind::kTransport);
  const std::string message = error.what();
  EXPECT_NE(message.find("eth_chainId"), std::string::npos) << message;
  EXPECT_NE(message.find("TLS handshake with " + server.url()), std::string::npos) << message;
  EXPECT_NE(message.find("certificate verification: "), std::string::npos) << message;
  EXPECT_EQ(server.handshakes(), 0);
}

TEST_F(RpcClientTlsTest, CertificateFromOtherCaIsTransportError) {
  const TestPki served = make_pki("IP:127.0.0.1");
  const TestPki other = make_pki("IP:127.0.0.1");
  TlsRpcServer server(io_, served);
  infra::HttpClientOptions http_options;
  http_options.ca_file = write_ca(other);
  infra::HttpClient http(io_.get_executor(), http_options);

  const RpcError error = expect_call_error(http, server.url());

  EXPECT_EQ(error.kind(), RpcErrorKind::kTransport);
  EXPECT_NE(std::string(error.what()).find("certificate verification: "), std::string::npos)
      << error.what();
  EXPECT_EQ(server.handshakes(), 0);
}

TEST_F(RpcClientTlsTest, CertificateForOtherHostIsTransportError) {
  // Signed by the trusted CA, but for 127.0.0.2 and a DNS name, not for 127.0.0.1.
  const TestPki pki = make_pki("IP:127.0.0.2,DNS:rpc.example");
  TlsRpcServer server(io_, pki);
  infra::HttpClientOptions http_options;
  http_options.ca_file = write_ca(pki);
  infra::HttpClient http(io_.get_executor(), http_options);

  const RpcError error = expect_call_error(http, server.url());

  EXPECT_EQ(error.kind(), RpcErrorKind::kTransport);
  EXPECT_NE(std::string(error.what()).find("certificate verify failed"), std::string::npos)
      << error.what();
  EXPECT_EQ(server.handshakes(), 0);
}

TEST_F(RpcClientTlsTest, MissingCaFileIsRejected) {
  infra::HttpClientOptions http_options;
  http_options.ca_file = (dir_ / "missing.pem").string();

  try {
    infra::HttpClient http(io_.get_executor(), http_options);
    FAIL() << "HttpClient accepted a missing CA file";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("missing.pem"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace inferd::chain
