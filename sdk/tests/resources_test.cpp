#include "infernet/sdk/resources.hpp"

#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "infra/http_client.hpp"

namespace infernet::sdk {
namespace {

using namespace std::chrono_literals;

// Two processors as an x86 Linux kernel lists them (other keys trimmed).
constexpr const char* kCpuinfo =
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"
    "cpu MHz\t\t: 2200.154\n"
    "\n"
    "processor\t: 1\n"
    "vendor_id\t: GenuineIntel\n"
    "model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"
    "cpu MHz\t\t: 2199.998\n";

// The parts of `nvidia-smi -q -x` output that the reference reads.
constexpr const char* kNvidiaSmi = R"(<?xml version="1.0" ?>
<nvidia_smi_log>
  <driver_version>535.104.05</driver_version>
  <cuda_version>12.2</cuda_version>
  <attached_gpus>1</attached_gpus>
  <gpu id="00000000:00:04.0">
    <product_name>Tesla T4</product_name>
    <minor_number>0</minor_number>
    <fb_memory_usage>
      <total>15360 MiB</total>
      <reserved>257 MiB</reserved>
      <used>2 MiB</used>
      <free>15100 MiB</free>
    </fb_memory_usage>
  </gpu>
</nvidia_smi_log>
)";

HardwareFacts fake_hardware() {
  HardwareFacts facts;
  facts.os_info = {{"name", "Linux"}, {"version", "#1 SMP test"}};
  facts.cpu_info = parse_cpuinfo(kCpuinfo);
  facts.disk_info = nlohmann::json::array({{{"filesystem", "/dev/sda1"},
                                            {"mount_point", "/"},
                                            {"size", 100},
                                            {"used", 40},
                                            {"available", 60}}});
  return facts;
}

ResourcesOptions onnx_options() {
  ResourcesOptions options;
  options.service_id = "onnx-inference-service";
  options.compute_capability = [] {
    return nlohmann::json::array({ml_compute_capability("onnx", {}, nlohmann::json::array(), {})});
  };
  options.supports_model = file_suffix_model_check(".onnx");
  return options;
}

TEST(Cpuinfo, ParsesProcessors) {
  auto cpu = parse_cpuinfo(kCpuinfo);
  EXPECT_EQ(cpu["model"], "Intel(R) Xeon(R) CPU @ 2.20GHz");
  EXPECT_EQ(cpu["vendor_id"], "GenuineIntel");
  EXPECT_EQ(cpu["num_cores"], 2);
  ASSERT_EQ(cpu["cores"].size(), 2u);
  EXPECT_EQ(cpu["cores"][1]["id"], 1);
  EXPECT_DOUBLE_EQ(cpu["cores"][1]["frequency"].get<double>(), 2199.998);
  EXPECT_TRUE(cpu["cores"][0]["max_frequency"].is_null());
}

TEST(NvidiaSmi, ParsesGpu) {
  auto gpu = parse_nvidia_smi_xml(kNvidiaSmi);
  EXPECT_EQ(gpu["driver_version"], "535.104.05");
  EXPECT_EQ(gpu["cuda_version"], "12.2");
  ASSERT_EQ(gpu["gpu_info"].size(), 1u);
  EXPECT_EQ(gpu["gpu_info"][0]["name"], "Tesla T4");
  EXPECT_EQ(gpu["gpu_info"][0]["memory_total"], 15360ULL * 1024 * 1024);
  EXPECT_EQ(gpu["gpu_info"][0]["memory_used"], 2ULL * 1024 * 1024);
  EXPECT_EQ(gpu["gpu_info"][0]["cuda_device_id"], 0);
  EXPECT_TRUE(parse_nvidia_smi_xml("command not found").is_null());
}

TEST(HardwareFacts, ReadsThisMachine) {
  auto facts = HardwareFacts::read_from_system();
  EXPECT_EQ(facts.os_info["name"], "Linux");
  EXPECT_FALSE(facts.cpu_info["architecture"].get<std::string>().empty());
  EXPECT_EQ(facts.cpu_info["byte_order"], "Little Endian");
  EXPECT_GE(facts.cpu_info["num_cores"].get<int>(), 1);
  ASSERT_FALSE(facts.disk_info.empty());
  EXPECT_GT(facts.disk_info[0]["size"].get<std::uint64_t>(), 0u);
  auto capabilities = facts.hardware_capabilities();
  EXPECT_EQ(capabilities[0]["capability_id"], "base");
}

TEST(HardwareFacts, GpuEntryOnlyWithGpu) {
  auto facts = fake_hardware();
  EXPECT_EQ(facts.hardware_capabilities().size(), 1u);
  facts.gpu = parse_nvidia_smi_xml(kNvidiaSmi);
  auto capabilities = facts.hardware_capabilities();
  ASSERT_EQ(capabilities.size(), 2u);
  EXPECT_EQ(capabilities[1]["capability_id"], "gpu");
  EXPECT_EQ(capabilities[1]["gpu_info"][0]["name"], "Tesla T4");
}

TEST(ServiceResources, DescribesService) {
  auto reply = describe_resources(onnx_options(), fake_hardware());
  EXPECT_EQ(reply["version"], "0.1.0");
  EXPECT_EQ(reply["service_id"], "onnx-inference-service");
  EXPECT_EQ(reply["hardware_capabilities"][0]["cpu_info"]["num_cores"], 2);
  const auto& ml = reply["compute_capability"][0];
  EXPECT_EQ(ml["id"], "ml");
  EXPECT_EQ(ml["type"], "onnx");
  EXPECT_EQ(ml["task"], nlohmann::json::array());
  EXPECT_EQ(ml["models"], nlohmann::json::array());
  EXPECT_EQ(ml["cached_models"], nlohmann::json::array());
  EXPECT_TRUE(ml["inference_engine"].is_null());
}

TEST(ServiceResources, ListsCachedModels) {
  CachedRepo repo;
  repo.repo = RepoId::parse("arweave/owner/iris-classification");
  repo.manifest =
      ModelManifest::parse({{"files", {"iris.onnx"}}, {"artifact_type", "ModelArtifact"}}, "test");
  auto ml = ml_compute_capability("torch", {"text_generation"}, nlohmann::json::array(), {repo},
                                  "libtorch", "1.13.1");
  EXPECT_EQ(ml["task"], nlohmann::json({"text_generation"}));
  ASSERT_EQ(ml["cached_models"].size(), 1u);
  EXPECT_EQ(ml["cached_models"][0]["repo_id"], "arweave/owner/iris-classification");
  EXPECT_EQ(ml["cached_models"][0]["manifest"]["artifact_type"], "ModelArtifact");
  EXPECT_EQ(ml["inference_engine_version"], "1.13.1");
}

TEST(ServiceResources, ModelSupportBySuffix) {
  auto options = onnx_options();
  EXPECT_EQ(query_model_support(options, "huggingface/Ritual-Net/iris-classification:iris.onnx"),
            nlohmann::json({{"supported", true}}));
  EXPECT_EQ(query_model_support(options, "huggingface/Ritual-Net/iris-classification:iris.torch"),
            nlohmann::json({{"supported", false}}));
  auto malformed = query_model_support(options, "iris.onnx");
  EXPECT_EQ(malformed["supported"], false);
  EXPECT_TRUE(malformed["error"].is_string());
  auto without_file = query_model_support(options, "local/me/iris");
  EXPECT_NE(without_file["error"].get<std::string>().find("names no file"), std::string::npos);
}

TEST(ServiceResources, NoCheckSupportsNothing) {
  ResourcesOptions options;
  EXPECT_EQ(query_model_support(options, "local/me/iris:a.onnx"),
            nlohmann::json({{"supported", false}}));
}

// The handler behind a real Service route: the reply uses the facts read when it was made.
TEST(ServiceResources, ServedOverHttp) {
  Service service{"resources-test"};
  service.on_resources(make_resources_handler(onnx_options(), fake_hardware()));
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  auto server = service.make_server(io, "127.0.0.1", 0);
  server->start();
  std::thread thread([&io] { io.run(); });
  inferd::infra::HttpClient client(io.get_executor());
  auto get = [&](const std::string& target) {
    auto url =
        inferd::infra::Url::parse("http://127.0.0.1:" + std::to_string(server->port()) + target);
    return asio::co_spawn(io,
                          client.send(url, inferd::infra::ClientRequest{},
                                      std::chrono::steady_clock::now() + 5s),
                          asio::use_future)
        .get();
  };

  auto full = get("/service-resources");
  auto supported = get("/service-resources?model_id=local/me/iris:iris.onnx");
  auto empty_id = get("/service-resources?model_id=");

  client.clear_idle();
  server->stop_accepting();
  server->close_connections();
  work.reset();
  io.stop();
  thread.join();

  EXPECT_EQ(full.status_code, 200u);
  auto body = nlohmann::json::parse(full.body);
  EXPECT_EQ(body["hardware_capabilities"][0]["os_info"]["version"], "#1 SMP test");
  EXPECT_EQ(supported.status_code, 200u);
  EXPECT_EQ(nlohmann::json::parse(supported.body), nlohmann::json({{"supported", true}}));
  EXPECT_EQ(nlohmann::json::parse(empty_id.body)["service_id"], "onnx-inference-service");
}

}  // namespace
}  // namespace infernet::sdk
