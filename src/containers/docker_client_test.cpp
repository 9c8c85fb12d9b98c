#include "containers/docker_client.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <future>

namespace inferd::containers {
namespace {

using namespace std::chrono_literals;

// Runs `task` on a fresh io_context and returns its exception, or null when it succeeded.
std::exception_ptr run(std::function<Awaitable<void>()> task) {
  asio::io_context context;
  std::exception_ptr error;
  asio::co_spawn(context, task(), [&](std::exception_ptr e) { error = e; });
  context.run();
  return error;
}

std::filesystem::path temp_socket_path(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("inferd-docker-test-" + std::to_string(::getpid()) + "-" + name + ".sock");
}

TEST(DockerEndpoint, ParsesUnixForms) {
  auto with_scheme = DockerEndpoint::parse("unix:///run/podman/podman.sock");
  EXPECT_EQ(with_scheme.kind, DockerEndpoint::Kind::kUnix);
  EXPECT_EQ(with_scheme.socket_path, "/run/podman/podman.sock");

  auto bare_path = DockerEndpoint::parse("/var/run/docker.sock");
  EXPECT_EQ(bare_path.kind, DockerEndpoint::Kind::kUnix);
  EXPECT_EQ(bare_path.socket_path, "/var/run/docker.sock");
  EXPECT_EQ(bare_path.to_string(), "unix:///var/run/docker.sock");
}

TEST(DockerEndpoint, ParsesTcpForms) {
  auto tcp = DockerEndpoint::parse("tcp://127.0.0.1:2375");
  EXPECT_EQ(tcp.kind, DockerEndpoint::Kind::kTcp);
  EXPECT_EQ(tcp.host, "127.0.0.1");
  EXPECT_EQ(tcp.port, "2375");

  auto ipv6 = DockerEndpoint::parse("tcp://[::1]:2375");
  EXPECT_EQ(ipv6.host, "::1");
  EXPECT_EQ(ipv6.port, "2375");

  auto http = DockerEndpoint::parse("http://localhost:2375/");
  EXPECT_EQ(http.host, "localhost");
  EXPECT_EQ(http.to_string(), "tcp://localhost:2375");
}

TEST(DockerEndpoint, RejectsInvalidValues) {
  EXPECT_THROW(DockerEndpoint::parse("ssh://user@host"), std::invalid_argument);
  EXPECT_THROW(DockerEndpoint::parse("https://host:2376"), std::invalid_argument);
  EXPECT_THROW(DockerEndpoint::parse("tcp://host"), std::invalid_argument);
  EXPECT_THROW(DockerEndpoint::parse("unix://relative.sock"), std::invalid_argument);
  EXPECT_THROW(DockerEndpoint::parse(""), std::invalid_argument);
}

TEST(DockerEndpoint, EnvironmentDefaultIsDockerSocket) {
  const char* saved = std::getenv("DOCKER_HOST");
  const std::string saved_value = saved ? saved : "";
  ::unsetenv("DOCKER_HOST");
  EXPECT_EQ(DockerEndpoint::from_environment().socket_path, "/var/run/docker.sock");
  ::setenv("DOCKER_HOST", "tcp://127.0.0.1:1", 1);
  EXPECT_EQ(DockerEndpoint::from_environment().port, "1");
  if (saved) {
    ::setenv("DOCKER_HOST", saved_value.c_str(), 1);
  } else {
    ::unsetenv("DOCKER_HOST");
  }
}

TEST(ImageReference, SplitsNameAndTag) {
  EXPECT_EQ(
      split_image_reference("ritualnetwork/hello-world-infernet:1.0.0"),
      std::make_pair(std::string("ritualnetwork/hello-world-infernet"), std::string("1.0.0")));
  EXPECT_EQ(split_image_reference("busybox"),
            std::make_pair(std::string("busybox"), std::string("latest")));
  EXPECT_EQ(split_image_reference("registry:5000/team/app"),
            std::make_pair(std::string("registry:5000/team/app"), std::string("latest")));
  EXPECT_EQ(split_image_reference("registry:5000/app:v2"),
            std::make_pair(std::string("registry:5000/app"), std::string("v2")));
  EXPECT_EQ(split_image_reference("app@sha256:abcd"),
            std::make_pair(std::string("app@sha256:abcd"), std::string()));
}

TEST(DemultiplexLogs, StripsStreamHeaders) {
  std::string raw;
  auto frame = [&](char stream, const std::string& payload) {
    raw.push_back(stream);
    raw.append(3, '\0');
    const auto size = static_cast<std::uint32_t>(payload.size());
    raw.push_back(static_cast<char>(size >> 24));
    raw.push_back(static_cast<char>(size >> 16));
    raw.push_back(static_cast<char>(size >> 8));
    raw.push_back(static_cast<char>(size));
    raw += payload;
  };
  frame(1, "out line\n");
  frame(2, "err line\n");
  EXPECT_EQ(demultiplex_logs(raw), "out line\nerr line\n");
}

TEST(DemultiplexLogs, KeepsPlainText) {
  EXPECT_EQ(demultiplex_logs("plain text log\nsecond\n"), "plain text log\nsecond\n");
  EXPECT_EQ(demultiplex_logs(""), "");
}

TEST(UrlEncode, EncodesReservedCharacters) {
  EXPECT_EQ(url_encode("a b/c:d"), "a%20b%2Fc%3Ad");
  EXPECT_EQ(url_encode("repo/name:tag", "/:"), "repo/name:tag");
  EXPECT_EQ(url_encode("{\"label\":[\"x=y\"]}"), "%7B%22label%22%3A%5B%22x%3Dy%22%5D%7D");
}

TEST(DaemonMessage, ExtractsMessageField) {
  EXPECT_EQ(daemon_message(R"({"message":"no such container: x"})"), "no such container: x");
  EXPECT_EQ(daemon_message("plain failure\n"), "plain failure");
  EXPECT_EQ(daemon_message(""), "(empty answer)");
}

TEST(DockerError, MessageNamesOperationSubjectAndStatus) {
  DockerError error("start container", "abc123", 500, "port is already allocated");
  EXPECT_EQ(std::string(error.what()),
            "docker start container abc123 failed with HTTP 500: port is already allocated");
  EXPECT_EQ(error.status(), 500);
  EXPECT_EQ(error.subject(), "abc123");
}

TEST(DockerClient, MissingSocketNamesPathAndFix) {
  const auto path = temp_socket_path("missing");
  std::filesystem::remove(path);
  DockerClient client(DockerEndpoint::parse("unix://" + path.string()), 2s);
  auto error = run([&]() -> Awaitable<void> { co_await client.version(); });
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const DockerError& e) {
    EXPECT_EQ(e.status(), 0);
    EXPECT_EQ(e.operation(), "version");
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("scripts/podman.sh"), std::string::npos) << e.what();
  }
}

TEST(DockerClient, RefusedSocketSaysNothingListens) {
  // A socket file with no listener: bound, then closed without listen().
  const auto path = temp_socket_path("refused");
  std::filesystem::remove(path);
  {
    asio::io_context context;
    asio::local::stream_protocol::acceptor acceptor(context);
    acceptor.open();
    acceptor.bind(asio::local::stream_protocol::endpoint(path.string()));
  }
  DockerClient client(DockerEndpoint::parse("unix://" + path.string()), 2s);
  auto error = run([&]() -> Awaitable<void> { co_await client.version(); });
  std::filesystem::remove(path);
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const DockerError& e) {
    EXPECT_NE(std::string(e.what()).find("not running"), std::string::npos) << e.what();
  }
}

TEST(DockerClient, SilentDaemonTimesOut) {
  // Accepts the connection but never answers.
  const auto path = temp_socket_path("silent");
  std::filesystem::remove(path);
  asio::io_context context;
  asio::local::stream_protocol::acceptor acceptor(
      context, asio::local::stream_protocol::endpoint(path.string()));
  asio::local::stream_protocol::socket peer(context);
  acceptor.async_accept(peer, [](boost::system::error_code) {});

  DockerClient client(DockerEndpoint::parse("unix://" + path.string()), 300ms);
  std::exception_ptr error;
  asio::co_spawn(
      context, [&]() -> Awaitable<void> { co_await client.version(); },
      [&](std::exception_ptr e) {
        error = e;
        acceptor.close();
        peer.close();
      });
  context.run();
  std::filesystem::remove(path);
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const DockerError& e) {
    EXPECT_NE(std::string(e.what()).find("did not answer within 300 ms"), std::string::npos)
        << e.what();
  }
}

TEST(DockerClient, PassesApiErrorBodyThrough) {
  // A fake daemon that answers every request with a Docker-style 404 error body.
  const auto path = temp_socket_path("error-body");
  std::filesystem::remove(path);
  asio::io_context context;
  asio::local::stream_protocol::acceptor acceptor(
      context, asio::local::stream_protocol::endpoint(path.string()));
  asio::co_spawn(
      context,
      [&]() -> Awaitable<void> {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        beast::flat_buffer buffer;
        http::request<http::string_body> request;
        co_await http::async_read(socket, buffer, request, asio::use_awaitable);
        http::response<http::string_body> response{http::status::not_found, 11};
        response.set(http::field::content_type, "application/json");
        response.body() = R"({"message":"no container with name or ID \"ghost\" found"})";
        response.prepare_payload();
        co_await http::async_write(socket, response, asio::use_awaitable);
      },
      asio::detached);

  DockerClient client(DockerEndpoint::parse("unix://" + path.string()), 2s);
  std::exception_ptr error;
  asio::co_spawn(
      context, [&]() -> Awaitable<void> { co_await client.start_container("ghost"); },
      [&](std::exception_ptr e) { error = e; });
  context.run();
  std::filesystem::remove(path);
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const DockerError& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.operation(), "start container");
    EXPECT_EQ(e.subject(), "ghost");
    EXPECT_EQ(e.daemon_message(), "no container with name or ID \"ghost\" found");
  }
}

TEST(DockerClient, PullSendsAuthAndReportsStreamError) {
  // A fake daemon that records the pull request and fails it inside the progress stream, the
  // way Docker reports a registry error after answering 200.
  const auto path = temp_socket_path("pull");
  std::filesystem::remove(path);
  asio::io_context context;
  asio::local::stream_protocol::acceptor acceptor(
      context, asio::local::stream_protocol::endpoint(path.string()));
  std::string target;
  std::string auth_header;
  asio::co_spawn(
      context,
      [&]() -> Awaitable<void> {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        beast::flat_buffer buffer;
        http::request<http::string_body> request;
        co_await http::async_read(socket, buffer, request, asio::use_awaitable);
        target = std::string(request.target());
        auth_header = std::string(request["X-Registry-Auth"]);
        http::response<http::string_body> response{http::status::ok, 11};
        response.body() =
            "{\"status\":\"Pulling fs layer\",\"id\":\"abc\",\"progressDetail\":{}}\n"
            "{\"error\":\"manifest unknown\",\"errorDetail\":{\"message\":\"manifest unknown\"}}\n";
        response.prepare_payload();
        co_await http::async_write(socket, response, asio::use_awaitable);
      },
      asio::detached);

  DockerClient client(DockerEndpoint::parse("unix://" + path.string()), 2s);
  std::vector<nlohmann::json> progress;
  std::exception_ptr error;
  asio::co_spawn(
      context,
      [&]() -> Awaitable<void> {
        // Named arguments: GCC 12 destroys some temporaries in a co_await expression twice.
        std::optional<RegistryAuth> auth = RegistryAuth{"alice", "secret", ""};
        DockerClient::PullProgress on_progress = [&](const nlohmann::json& line) {
          progress.push_back(line);
        };
        co_await client.pull_image("registry.example:5000/team/app:1.0", auth, on_progress, 5s);
      },
      [&](std::exception_ptr e) { error = e; });
  context.run();
  std::filesystem::remove(path);

  EXPECT_EQ(target, "/v1.41/images/create?fromImage=registry.example%3A5000%2Fteam%2Fapp&tag=1.0");
  ASSERT_EQ(progress.size(), 2U);
  EXPECT_EQ(progress[0]["status"], "Pulling fs layer");

  // X-Registry-Auth is URL-safe base64 of {"username":…,"password":…}.
  std::string standard = auth_header;
  for (char& c : standard) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  std::string decoded(standard.size(), '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                     reinterpret_cast<const unsigned char*>(standard.data()),
                                     static_cast<int>(standard.size()));
  ASSERT_GT(length, 0);
  decoded.resize(decoded.find('}') + 1);
  const auto credentials = nlohmann::json::parse(decoded);
  EXPECT_EQ(credentials["username"], "alice");
  EXPECT_EQ(credentials["password"], "secret");

  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const DockerError& e) {
    EXPECT_EQ(e.operation(), "pull");
    EXPECT_EQ(e.subject(), "registry.example:5000/team/app:1.0");
    EXPECT_EQ(e.daemon_message(), "manifest unknown");
  }
}

}  // namespace
}  // namespace inferd::containers
