#include "infra/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace inferd::infra::metrics {
namespace {

enum Type { kCounter = 0, kGauge = 1, kHistogram = 2 };

const char* type_name(int type) {
  switch (type) {
    case kCounter:
      return "counter";
    case kGauge:
      return "gauge";
    default:
      return "histogram";
  }
}

bool is_metric_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

bool is_label_name(std::string_view name) {
  return is_metric_name(name) && name.find(':') == std::string_view::npos &&
         name.substr(0, 2) != "__";
}

// Escapes a label value: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Escapes HELP text: backslash and line feed.
std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_number(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  return fmt::format("{}", value);
}

// `name="value",...` of sorted labels, without braces.
std::string label_text(const Labels& labels) {
  std::string text;
  for (const auto& [name, value] : labels) {
    if (!text.empty()) {
      text += ',';
    }
    text += name;
    text += "=\"";
    text += escape_label_value(value);
    text += '"';
  }
  return text;
}

Labels sorted_checked(Labels labels, std::string_view metric) {
  for (const auto& [name, value] : labels) {
    if (!is_label_name(name) || name == "le") {
      throw std::invalid_argument("metric " + std::string(metric) + ": invalid label name \"" +
                                  name + "\"");
    }
  }
  std::sort(labels.begin(), labels.end());
  for (std::size_t i = 1; i < labels.size(); ++i) {
    if (labels[i].first == labels[i - 1].first) {
      throw std::invalid_argument("metric " + std::string(metric) + ": label \"" + labels[i].first +
                                  "\" given twice");
    }
  }
  return labels;
}

std::string series_name(const std::string& name, const std::string& labels) {
  return labels.empty() ? name : name + "{" + labels + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (std::isnan(upper_bounds_[i]) || (i > 0 && upper_bounds_[i] <= upper_bounds_[i - 1])) {
      throw std::invalid_argument("histogram upper bounds must be strictly increasing");
    }
  }
  if (!upper_bounds_.empty() && std::isinf(upper_bounds_.back())) {
    upper_bounds_.pop_back();  // +Inf is always added
  }
  bucket_counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1);
}

void Histogram::observe(double value) {
  auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  bucket_counts_[static_cast<std::size_t>(bucket - upper_bounds_.begin())].fetch_add(
      1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> counts(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    counts[i] = running;
  }
  return counts;
}

const std::vector<double>& default_buckets() {
  static const std::vector<double> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                               0.5,   1.0,  2.5,   5.0,  10.0};
  return kBuckets;
}

struct Registry::Family {
  std::string help;
  int type = kCounter;
  std::vector<double> upper_bounds;
  // Keyed by the rendered label text, so iteration order is the render order.
  std::map<std::string, std::unique_ptr<Counter>> counters;
  std::map<std::string, std::unique_ptr<Gauge>> gauges;
  std::map<std::string, std::function<double()>> callbacks;
  std::map<std::string, std::unique_ptr<Histogram>> histograms;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help, int type,
                                   const std::vector<double>* upper_bounds) {
  if (!is_metric_name(name)) {
    throw std::invalid_argument("invalid metric name \"" + std::string(name) + "\"");
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto created = std::make_unique<Family>();
    created->help = std::string(help);
    created->type = type;
    if (upper_bounds != nullptr) {
      created->upper_bounds = *upper_bounds;
    }
    it = families_.emplace(std::string(name), std::move(created)).first;
  }
  Family& found = *it->second;
  if (found.type != type) {
    throw std::logic_error("metric " + std::string(name) + " is already registered as a " +
                           type_name(found.type) + ", not a " + type_name(type));
  }
  if (upper_bounds != nullptr && found.upper_bounds != *upper_bounds) {
    throw std::logic_error("histogram " + std::string(name) +
                           " is already registered with other buckets");
  }
  return found;
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
  std::string key = label_text(sorted_checked(std::move(labels), name));
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, kCounter, nullptr).counters[key];
  if (!slot) {
    slot = std::make_unique<Counter>();
  }
  return *slot;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
  std::string key = label_text(sorted_checked(std::move(labels), name));
  std::lock_guard lock(mutex_);
  Family& found = family(name, help, kGauge, nullptr);
  if (found.callbacks.count(key) != 0) {
    throw std::logic_error("gauge " + series_name(std::string(name), key) +
                           " is already a callback gauge");
  }
  auto& slot = found.gauges[key];
  if (!slot) {
    slot = std::make_unique<Gauge>();
  }
  return *slot;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::vector<double> upper_bounds, Labels labels) {
  std::string key = label_text(sorted_checked(std::move(labels), name));
  // Validates and normalises the bounds (drops a trailing +Inf) before comparing families.
  auto fresh = std::make_unique<Histogram>(std::move(upper_bounds));
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, kHistogram, &fresh->upper_bounds()).histograms[key];
  if (!slot) {
    slot = std::move(fresh);
  }
  return *slot;
}

void Registry::gauge_callback(std::string_view name, std::string_view help, Labels labels,
                              std::function<double()> read) {
  std::string key = label_text(sorted_checked(std::move(labels), name));
  std::lock_guard lock(mutex_);
  Family& found = family(name, help, kGauge, nullptr);
  if (found.gauges.count(key) != 0) {
    throw std::logic_error("gauge " + series_name(std::string(name), key) +
                           " is already a plain gauge");
  }
  found.callbacks[key] = std::move(read);
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + escape_help(family->help) + "\n";
    out += "# TYPE " + name + " " + type_name(family->type) + "\n";
    switch (family->type) {
      case kCounter:
        for (const auto& [labels, counter] : family->counters) {
          out += series_name(name, labels) + " " + std::to_string(counter->value()) + "\n";
        }
        break;
      case kGauge: {
        // Plain and callback gauges share the family; merge them in label order.
        std::map<std::string, double> values;
        for (const auto& [labels, gauge] : family->gauges) {
          values[labels] = gauge->value();
        }
        for (const auto& [labels, read] : family->callbacks) {
          values[labels] = read();
        }
        for (const auto& [labels, value] : values) {
          out += series_name(name, labels) + " " + format_number(value) + "\n";
        }
        break;
      }
      default:
        for (const auto& [labels, histogram] : family->histograms) {
          std::string prefix = labels.empty() ? "" : labels + ",";
          std::vector<std::uint64_t> counts = histogram->cumulative_counts();
          const auto& bounds = histogram->upper_bounds();
          for (std::size_t i = 0; i < counts.size(); ++i) {
            std::string le = i < bounds.size() ? format_number(bounds[i]) : "+Inf";
            out += name + "_bucket{" + prefix + "le=\"" + le + "\"} " + std::to_string(counts[i]) +
                   "\n";
          }
          out += series_name(name + "_sum", labels) + " " + format_number(histogram->sum()) + "\n";
          out += series_name(name + "_count", labels) + " " + std::to_string(counts.back()) + "\n";
        }
        break;
    }
  }
  return out;
}

}  // namespace inferd::infra::metrics
