// A thread-safe least-recently-used cache of loaded models, keyed by string.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace infernet::services::ml {

/// Keeps at most `capacity` values. Values are shared pointers, so a value evicted while a
/// request still uses it lives until that request drops it. Thread-safe.
template <typename Value>
class LruCache {
 public:
  using Loader = std::function<std::shared_ptr<Value>()>;

  /// `capacity` 0 keeps nothing: every get_or_load() call loads.
  explicit LruCache(std::size_t capacity) : capacity_(capacity) {}

  /// Returns the value cached under `key` and marks it most recently used, or calls `load`,
  /// caches its result and evicts the least recently used value when the cache is full.
  /// Loads run under the cache's lock, so two requests for the same new key load it once. A
  /// load that throws caches nothing, and the exception reaches the caller.
  std::shared_ptr<Value> get_or_load(const std::string& key, const Loader& load) {
    std::lock_guard lock(mutex_);
    if (auto found = index_.find(key); found != index_.end()) {
      order_.splice(order_.begin(), order_, found->second);
      ++hits_;
      return found->second->second;
    }
    ++misses_;
    std::shared_ptr<Value> value = load();
    if (capacity_ == 0)
      return value;
    order_.emplace_front(key, value);
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return value;
  }

  /// Returns whether `key` is cached, without changing the order.
  bool contains(const std::string& key) const {
    std::lock_guard lock(mutex_);
    return index_.contains(key);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return order_.size();
  }

  std::size_t capacity() const { return capacity_; }

  /// Returns the number of lookups served from the cache and the number that loaded.
  std::pair<std::size_t, std::size_t> hits_and_misses() const {
    std::lock_guard lock(mutex_);
    return {hits_, misses_};
  }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<Value>>;

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> order_;  ///< most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
};

}  // namespace infernet::services::ml
