// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

/// @title Allowlist
/// @notice Lets a consumer accept deliveries only from listed nodes: put
///         `onlyAllowedNode(node)` on its `_receiveCompute`. A rejected delivery reverts as a whole.
abstract contract Allowlist {
    mapping(address => bool) private allowedNodes;

    /// @notice Thrown when a delivery comes from a node that is not on the list.
    error NodeNotAllowed();

    constructor(address[] memory initialAllowed) {
        for (uint256 i = 0; i < initialAllowed.length; ++i) {
            allowedNodes[initialAllowed[i]] = true;
        }
    }

    modifier onlyAllowedNode(address node) {
        if (!allowedNodes[node]) revert NodeNotAllowed();
        _;
    }

    /// @notice Whether `node` may deliver.
    function isAllowedNode(address node) external view returns (bool) {
        return allowedNodes[node];
    }

    /// @dev Sets allowedNodes[nodes[i]] = statuses[i]; later entries win.
    function _updateAllowlist(address[] memory nodes, bool[] memory statuses) internal {
        for (uint256 i = 0; i < nodes.length; ++i) {
            allowedNodes[nodes[i]] = statuses[i];
        }
    }
}
