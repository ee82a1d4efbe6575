"""AccountLayer address formulas against the facts file's vectors (§2a)."""

from eth_utils import to_checksum_address

from harness.addresses import sub_account_address, virtual_account_address


def test_sub_account_vector() -> None:
    got = sub_account_address(
        to_checksum_address("0x" + "55" * 20), to_checksum_address("0x" + "66" * 20), 1
    )
    assert got.lower() == "0x7ad70596054cfba67fe63f7b27bab4e651908710"


def test_virtual_account_vector() -> None:
    got = virtual_account_address(to_checksum_address("0x" + "33" * 20), 1)
    assert got.lower() == "0x98719bed8d377c7bb09a3faf4fcd170b30aeadd9"
