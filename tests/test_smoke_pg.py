from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity


async def test_login_and_me(identity: Identity, gql: GraphQLClient) -> None:
    account = await identity.account("acme")
    me = (await gql("{ me { email tenant { slug } roles } }", token=account.token)).ok()["me"]
    assert me == {"email": account.email, "tenant": {"slug": "acme"}, "roles": ["USER"]}
