// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Registry} from "../Registry.sol";

/// @title Coordinated
/// @notice Restricts functions to the coordinator named by the registry.
abstract contract Coordinated {
    /// @notice Thrown when a coordinator-only function is called by anyone else.
    /// @dev 4-byte selector 0x9ec853e6.
    error NotCoordinator();

    address private immutable COORDINATOR;

    constructor(Registry registry) {
        COORDINATOR = registry.COORDINATOR();
    }

    /// @dev The check is a separate function so that the compiler, which places an immutable
    ///      as a 33-byte push at each use, keeps one copy instead of one per guarded function.
    modifier onlyCoordinator() {
        _checkCoordinator();
        _;
    }

    function _checkCoordinator() private view {
        if (msg.sender != COORDINATOR) revert NotCoordinator();
    }
}
